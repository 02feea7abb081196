// Everything of CKaipmShims is `static inline` in include/CKaipmShims.h; SwiftPM needs one source file.
#include "CKaipmShims.h"
