// CBLAS from Debian's libopenblas-dev (include path via pkg-config `openblas`).
#include <cblas.h>
