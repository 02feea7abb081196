// C helpers for KaipmStore: Linux calls that Swift's Glibc module does not expose.
#ifndef CKAIPM_SHIMS_H
#define CKAIPM_SHIMS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/// syncfs(2): writes out all dirty data and metadata of the file system holding `fd` and waits for
/// it; returns 0, or -1 with errno (since Linux 5.8 also for writeback errors seen since `fd` was opened).
static inline int kaipm_syncfs(int fd) {
    return syncfs(fd);
}

/// The number of entries other than "." and ".." in the directory open at `fd`, read from its
/// current offset (a freshly opened fd) with getdents64 into a stack buffer; -1 with errno on error.
static inline long kaipm_count_directory_entries(int fd) {
    char buffer[16384] __attribute__((aligned(8)));
    long count = 0;
    for (;;) {
        ssize_t n = getdents64(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return count;
        for (ssize_t offset = 0; offset < n;) {
            const struct dirent64 *entry = (const struct dirent64 *)(buffer + offset);
            const char *name = entry->d_name;
            if (!(name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))) count++;
            offset += entry->d_reclen;
        }
    }
}

#endif
