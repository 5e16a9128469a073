// Which family of kernels runs: the CPU's instruction sets and the `KB_KERNELS` override.
#include "Internal.h"
#include <stdlib.h>
#include <string.h>

int kb_cpu_has_avx2(void) {
#ifdef KB_HAVE_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return cached;
#else
    return 0;
#endif
}

static int detect_family(kb_family family) {
    switch (family) {
    case KB_FAMILY_GENERIC: return 1;
#ifdef KB_HAVE_X86
    case KB_FAMILY_AVX2: return kb_cpu_has_avx2();
    case KB_FAMILY_AVXVNNI: return kb_cpu_has_avx2() && __builtin_cpu_supports("avxvnni");
    case KB_FAMILY_AVX512:
        return kb_cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
    default: return 0;
    }
}

int kb_cpu_has_family(kb_family family) {
    static int cached[KB_FAMILY_AVX512 + 1] = {-1, -1, -1, -1};
    if (family < KB_FAMILY_GENERIC || family > KB_FAMILY_AVX512) return 0;
    if (cached[family] < 0) cached[family] = detect_family(family);
    return cached[family];
}

const char *kb_family_name(kb_family family) {
    switch (family) {
    case KB_FAMILY_GENERIC: return "generic";
    case KB_FAMILY_AVX2: return "avx2";
    case KB_FAMILY_AVXVNNI: return "avxvnni";
    case KB_FAMILY_AVX512: return "avx512";
    }
    return "unknown";
}

static const char *override_error = NULL;

static kb_family choose_family(void) {
    kb_family best = KB_FAMILY_GENERIC;
    for (int f = KB_FAMILY_AVX2; f <= KB_FAMILY_AVX512; f++) {
        if (kb_cpu_has_family((kb_family)f)) best = (kb_family)f;
    }
    const char *requested = getenv("KB_KERNELS");
    if (!requested || !*requested) return best;
    for (int f = KB_FAMILY_GENERIC; f <= KB_FAMILY_AVX512; f++) {
        if (strcmp(requested, kb_family_name((kb_family)f)) != 0) continue;
        if (kb_cpu_has_family((kb_family)f)) return (kb_family)f;
        override_error = "KB_KERNELS names a family of kernels this CPU cannot run";
        return best;
    }
    override_error = "KB_KERNELS is not one of generic, avx2, avxvnni, avx512";
    return best;
}

kb_family kb_best_family(void) {
    static int cached = -1;
    if (cached < 0) cached = (int)choose_family();
    return (kb_family)cached;
}

const char *kb_family_override_error(void) {
    (void)kb_best_family();
    return override_error;
}
