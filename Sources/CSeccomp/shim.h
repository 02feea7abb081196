// libseccomp from Debian's libseccomp-dev (pkg-config libseccomp), for KaipmSandbox's syscall filter.
#include <seccomp.h>
