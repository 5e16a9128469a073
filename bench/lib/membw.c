// Memory read bandwidth for bench/model-32b.sh: THREADS threads each sum their share of a
// buffer of BYTES bytes (far larger than the caches); prints the best of 5 passes in GB/s.
// usage: membw THREADS [BYTES]
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t *buffer;
static size_t words;
static int threads;

static void *sum_share(void *arg) {
    size_t t = (size_t)(intptr_t)arg, begin = words / threads * t, end = begin + words / threads;
    uint64_t s[8] = {0};
    for (size_t i = begin; i + 8 <= end; i += 8)
        for (int k = 0; k < 8; k++) s[k] += buffer[i + k];
    uint64_t total = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    return (void *)(uintptr_t)total;
}

int main(int argc, char **argv) {
    threads = argc > 1 ? atoi(argv[1]) : 1;
    size_t bytes = argc > 2 ? strtoull(argv[2], NULL, 10) : (size_t)2 << 30;
    words = bytes / 8;
    buffer = malloc(words * 8);
    if (!buffer || threads < 1) return 1;
    for (size_t i = 0; i < words; i++) buffer[i] = i;
    double best = 0;
    uint64_t check = 0;
    for (int pass = 0; pass < 5; pass++) {
        pthread_t ids[64];
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, sum_share, (void *)(intptr_t)t);
        for (int t = 0; t < threads; t++) {
            void *r;
            pthread_join(ids[t], &r);
            check += (uint64_t)(uintptr_t)r;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        double seconds = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
        double rate = (double)(words / threads * threads * 8) / seconds / 1e9;
        if (rate > best) best = rate;
    }
    printf("%.2f\n", best);
    return check == 42 ? 2 : 0;  // keeps the sums live
}
