#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "CKaipmSandboxShims.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int mark_cloexec_from(int low) {
    if (close_range((unsigned)low, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
    // Kernels before 5.11: walk the table up to the soft limit.
    struct rlimit limit;
    int top = 4096;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 65536) {
        top = (int)limit.rlim_cur;
    }
    for (int fd = low; fd < top; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    return 0;
}

int kaipm_launch_sandbox(const kaipm_sandbox_launch *launch, pid_t *pid_out, int *failed_step) {
    int report[2];
    *failed_step = KAIPM_STEP_NONE;
    if (pipe2(report, O_CLOEXEC) != 0) {
        *failed_step = KAIPM_STEP_FORK;
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        *failed_step = KAIPM_STEP_FORK;
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls from here to exec.
        int report_fd = report[1];
        int step = KAIPM_STEP_PARENT_DEATH;
        close(report[0]);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto fail;
        if (getppid() != parent) _exit(127);

        step = KAIPM_STEP_CGROUP;
        for (int i = 0; i < launch->cgroup_count; i++) {
            // "0" is the writing process itself, in cgroup v1 and v2.
            if (write(launch->cgroup_procs_fds[i], "0\n", 2) != 2) goto fail;
        }

        step = KAIPM_STEP_DESCRIPTORS;
        {
            int count = launch->fd_count;
            int moved[64];
            if (count > 64) { errno = EINVAL; goto fail; }
            // Copy every source above the target range first, so that no dup2 overwrites a source.
            int high = fcntl(report_fd, F_DUPFD_CLOEXEC, count);
            if (high < 0) goto fail;
            report_fd = high;
            for (int i = 0; i < count; i++) {
                if (launch->fds[i] < 0) {
                    moved[i] = -1;
                    continue;
                }
                moved[i] = fcntl(launch->fds[i], F_DUPFD_CLOEXEC, count);
                if (moved[i] < 0) goto fail;
            }
            for (int i = 0; i < count; i++) {
                if (moved[i] < 0) {
                    int null = open("/dev/null", O_RDWR);
                    if (null < 0) goto fail;
                    if (null != i) {
                        if (dup2(null, i) < 0) goto fail;
                        close(null);
                    }
                } else if (dup2(moved[i], i) < 0) {
                    goto fail;
                }
            }
            if (mark_cloexec_from(count) != 0) goto fail;
        }

        step = KAIPM_STEP_RLIMIT;
        for (int i = 0; i < launch->limit_count; i++) {
            struct rlimit limit = {
                .rlim_cur = (rlim_t)launch->limits[i].soft,
                .rlim_max = (rlim_t)launch->limits[i].hard,
            };
            if (setrlimit(launch->limits[i].resource, &limit) != 0) goto fail;
        }

        step = KAIPM_STEP_IDENTITY;
        if (launch->set_identity) {
            if (setgroups(0, NULL) != 0) goto fail;
            if (setresgid(launch->gid, launch->gid, launch->gid) != 0) goto fail;
            if (setresuid(launch->uid, launch->uid, launch->uid) != 0) goto fail;
            // A credential change clears the parent-death signal: set it again.
            step = KAIPM_STEP_PARENT_DEATH;
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto fail;
            if (getppid() != parent) _exit(127);
        }

        if (launch->cwd != NULL) {
            step = KAIPM_STEP_CWD;
            if (chdir(launch->cwd) != 0) goto fail;
        }
        if (launch->new_session) {
            step = KAIPM_STEP_SESSION;
            if (setsid() < 0) goto fail;
        }
        if (launch->no_new_privs) {
            step = KAIPM_STEP_NO_NEW_PRIVS;
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) goto fail;
        }

        step = KAIPM_STEP_SIGNALS;
        {
            sigset_t none;
            sigemptyset(&none);
            if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) goto fail;
            struct sigaction standard;
            memset(&standard, 0, sizeof standard);
            standard.sa_handler = SIG_DFL;
            for (int sig = 1; sig < NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP) continue;
                sigaction(sig, &standard, NULL);
            }
        }

        if (launch->seccomp_program != NULL) {
            // Last before exec: the filter then governs everything the new program does.
            step = KAIPM_STEP_SECCOMP;
            if (launch->seccomp_length == 0 || launch->seccomp_length % sizeof(struct sock_filter) != 0
                || launch->seccomp_length / sizeof(struct sock_filter) > BPF_MAXINSNS) {
                errno = EINVAL;
                goto fail;
            }
            struct sock_fprog program = {
                .len = (unsigned short)(launch->seccomp_length / sizeof(struct sock_filter)),
                .filter = (struct sock_filter *)launch->seccomp_program,
            };
            if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) goto fail;
        }

        step = KAIPM_STEP_EXEC;
        execve(launch->path, launch->argv, launch->envp);
    fail:
        {
            int message[2] = {step, errno};
            ssize_t ignored = write(report_fd, message, sizeof message);
            (void)ignored;
        }
        _exit(127);
    }
    close(report[1]);
    int message[2];
    ssize_t n;
    do {
        n = read(report[0], message, sizeof message);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof message) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *failed_step = message[0];
        errno = message[1];
        return -1;
    }
    *pid_out = pid;
    return 0;
}

int kaipm_spawn_detached(const char *path, char *const argv[], int ready_fd, pid_t *pid) {
    // A source already at 3 would stay close-on-exec after dup2(3, 3): move it out of the way.
    int source = fcntl(ready_fd, F_DUPFD_CLOEXEC, 10);
    if (source < 0) return errno;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_adddup2(&actions, source, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *environment[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
    int result = posix_spawn(pid, path, &actions, &attributes, argv, environment);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(source);
    return result;
}

int kaipm_daemonize(void) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) _exit(0);
    return 0;
}

int kaipm_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int kaipm_read_signal(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;
}

int kaipm_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal);
}

int kaipm_cloexec_from(int low) {
    return mark_cloexec_from(low);
}

int kaipm_close_from(int low) {
    return close_range((unsigned)low, ~0U, 0);
}

int kaipm_memfd(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}

int kaipm_pipe(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int kaipm_socketpair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

/// Fills `address` for `path`; ENAMETOOLONG when it does not fit sun_path.
static int unix_address(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(address->sun_path, path);
    return 0;
}

int kaipm_unix_listen(const char *path, int backlog) {
    struct sockaddr_un address;
    if (unix_address(path, &address) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    unlink(path);
    mode_t previous = umask(077);
    int bound = bind(fd, (struct sockaddr *)&address, sizeof address);
    umask(previous);
    if (bound != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int kaipm_unix_connect(const char *path) {
    struct sockaddr_un address;
    if (unix_address(path, &address) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int kaipm_accept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int kaipm_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int kaipm_try_lock(int fd) {
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_OFD_SETLK, &lock);
}

int kaipm_lock_is_held(int fd) {
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_OFD_GETLK, &lock) != 0) return -1;
    return lock.l_type == F_UNLCK ? 0 : 1;
}

long long kaipm_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

long long kaipm_wall_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (long long)now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

int kaipm_reap(pid_t pid, int *code, int *signal) {
    int status;
    pid_t result;
    do {
        result = waitpid(pid, &status, WNOHANG);
    } while (result < 0 && errno == EINTR);
    if (result <= 0) return result;
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return result;
}

long kaipm_send(int fd, const void *buffer, unsigned long length) {
    return (long)send(fd, buffer, length, MSG_NOSIGNAL);
}
