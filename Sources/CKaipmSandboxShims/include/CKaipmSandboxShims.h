// C helpers for KaipmSandbox and kaipm-supervisor: process setup between fork and exec, and
// Linux calls Swift's Glibc module does not import (variadic, macro-based or missing).
#ifndef CKAIPM_SANDBOX_SHIMS_H
#define CKAIPM_SANDBOX_SHIMS_H

#include <sys/types.h>

/// One resource limit to set in the child before exec.
typedef struct kaipm_rlimit {
    int resource;
    unsigned long long soft;
    unsigned long long hard;
} kaipm_rlimit;

/// Everything the child does between fork and exec, in this order: parent-death signal, join
/// cgroups, lay out file descriptors, resource limits, drop to the sandbox identity, then (for a
/// process started without bubblewrap, which does these itself) change directory, start a new
/// session, set no_new_privs, reset signals, load the seccomp program, exec.
typedef struct kaipm_sandbox_launch {
    const char *path;
    char *const *argv;
    char *const *envp;
    /// Child descriptor i is a copy of fds[i]; every other descriptor is closed at exec.
    const int *fds;
    int fd_count;
    /// Open `cgroup.procs` files (O_WRONLY): the child writes its own pid to each before exec.
    const int *cgroup_procs_fds;
    int cgroup_count;
    const kaipm_rlimit *limits;
    int limit_count;
    /// Non-zero: setgroups(0), setgid(gid), setuid(uid) after the limits.
    int set_identity;
    uid_t uid;
    gid_t gid;
    /// Non-null: chdir(cwd) after dropping to the identity (so the sandbox user's rights apply).
    const char *cwd;
    /// Non-zero: setsid(), so that the child has no controlling terminal to push input into.
    int new_session;
    /// Non-zero: prctl(PR_SET_NO_NEW_PRIVS): exec never gains privileges (setuid bits, file caps).
    int no_new_privs;
    /// Non-null: a classic BPF program of `seccomp_length` bytes (seccomp_export_bpf's output),
    /// loaded with PR_SET_SECCOMP just before exec. Needs no_new_privs unless the child is root.
    const void *seccomp_program;
    unsigned long seccomp_length;
} kaipm_sandbox_launch;

/// The step a child failed at, reported by kaipm_launch_sandbox in *failed_step.
enum {
    KAIPM_STEP_NONE = 0,
    KAIPM_STEP_FORK = 1,
    KAIPM_STEP_PARENT_DEATH = 2,
    KAIPM_STEP_CGROUP = 3,
    KAIPM_STEP_DESCRIPTORS = 4,
    KAIPM_STEP_RLIMIT = 5,
    KAIPM_STEP_IDENTITY = 6,
    KAIPM_STEP_SIGNALS = 7,
    KAIPM_STEP_EXEC = 8,
    KAIPM_STEP_CWD = 9,
    KAIPM_STEP_SESSION = 10,
    KAIPM_STEP_NO_NEW_PRIVS = 11,
    KAIPM_STEP_SECCOMP = 12,
};

/// Forks a child that prepares itself as `launch` says and execs `launch->path`. Returns 0 with
/// the child's pid once exec succeeded, or -1 with errno and *failed_step (the child is reaped).
/// Call it from a single-threaded process (kaipm-supervisor is one).
int kaipm_launch_sandbox(const kaipm_sandbox_launch *launch, pid_t *pid, int *failed_step);

/// posix_spawn with POSIX_SPAWN_SETSID: stdin, stdout, stderr on /dev/null, `ready_fd` as
/// descriptor 3. Returns 0 with *pid, or an errno value.
int kaipm_spawn_detached(const char *path, char *const argv[], int ready_fd, pid_t *pid);

/// Forks; the parent exits 0 at once and the child (not a session leader) returns 0. -1 on error.
int kaipm_daemonize(void);

/// Blocks `signals` and returns a non-blocking, close-on-exec signalfd for them, or -1.
int kaipm_signalfd(const int *signals, int count);

/// Reads one signal from a signalfd: its number, 0 when none is pending, -1 on error.
int kaipm_read_signal(int fd);

/// Sets this process's parent-death signal (PR_SET_PDEATHSIG); 0 or -1.
int kaipm_set_parent_death_signal(int signal);

/// Marks every descriptor from `low` up close-on-exec; 0 or -1.
int kaipm_cloexec_from(int low);

/// Closes every descriptor from `low` up; 0 or -1.
int kaipm_close_from(int low);

/// memfd_create(name, MFD_CLOEXEC); the descriptor or -1.
int kaipm_memfd(const char *name);

/// pipe2(fds, flags) (O_CLOEXEC, O_NONBLOCK); 0 or -1.
int kaipm_pipe(int fds[2], int flags);

/// A close-on-exec AF_UNIX stream socketpair; 0 or -1.
int kaipm_socketpair(int fds[2]);

/// A non-blocking, close-on-exec AF_UNIX stream socket listening at `path` (an old socket file
/// there is replaced), mode 0600. The descriptor, or -1 with errno (ENAMETOOLONG past 107 bytes).
int kaipm_unix_listen(const char *path, int backlog);

/// A blocking, close-on-exec AF_UNIX stream socket connected to `path`; the descriptor or -1.
int kaipm_unix_connect(const char *path);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; the descriptor or -1.
int kaipm_accept(int listener);

/// Sets O_NONBLOCK on `fd`; 0 or -1.
int kaipm_set_nonblocking(int fd);

/// Takes an exclusive open-file-description lock on the whole file without waiting; 0, or -1
/// with errno (EAGAIN or EACCES when someone holds it). Released when the last descriptor closes.
int kaipm_try_lock(int fd);

/// 1 when another open file description holds a lock on the file, 0 when none does, -1 on error.
/// Tests without taking the lock (F_OFD_GETLK), so it never races the holder.
int kaipm_lock_is_held(int fd);

/// Monotonic clock in nanoseconds.
long long kaipm_monotonic_ns(void);

/// Wall clock in milliseconds since the Unix epoch.
long long kaipm_wall_ms(void);

/// waitpid(pid, WNOHANG): returns the pid when it ended (with *code = exit status or -1, and
/// *signal = the killing signal or 0), 0 while it runs, -1 on error.
int kaipm_reap(pid_t pid, int *code, int *signal);

/// send(fd, buffer, length, MSG_NOSIGNAL): bytes written or -1 (EPIPE, never SIGPIPE).
long kaipm_send(int fd, const void *buffer, unsigned long length);

#endif
