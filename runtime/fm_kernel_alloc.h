/*===- fm_kernel_alloc.h - Halide's scratch memory, reused -------*- C -*-===
 *
 * Included by the descriptor source fmc generates for each model library
 * (codegen/LibrarySource.cpp), which installs these functions as the Halide
 * runtime's malloc and free. Halide's kernels allocate their scratch
 * (packs, argmax maps, a convolution's per-image tiles) on every call;
 * freed blocks wait here, in a small process-wide cache under a mutex, for
 * the next request of the same size. From the second step of a given batch
 * on, a step then allocates nothing from the system
 * (fm_kernel_system_allocations() counts what did).
 *
 * Blocks are 64-byte aligned with 64 bytes of guard before and after
 * (Halide may read a little past either end); the block's size sits in the
 * guard before it. The cache holds at most FM_KERNEL_ALLOC_SLOTS blocks,
 * replaced round robin when full, so it never holds more than that many
 * blocks of sizes no longer asked for.
 *===----------------------------------------------------------------------===*/
#ifndef FM_KERNEL_ALLOC_H
#define FM_KERNEL_ALLOC_H

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#define FM_KERNEL_ALLOC_SLOTS 64
#define FM_KERNEL_ALLOC_GUARD 64

static struct {
  pthread_mutex_t lock;
  size_t sizes[FM_KERNEL_ALLOC_SLOTS];
  void *blocks[FM_KERNEL_ALLOC_SLOTS];
  unsigned next; /* the slot replaced when all are taken */
  unsigned long long system_allocations;
} fm_kernel_alloc = {PTHREAD_MUTEX_INITIALIZER, {0}, {0}, 0, 0};

static void *fm_kernel_malloc(void *user_context, size_t size) {
  (void)user_context;
  void *block = NULL;
  pthread_mutex_lock(&fm_kernel_alloc.lock);
  for (unsigned i = 0; i < FM_KERNEL_ALLOC_SLOTS; ++i)
    if (fm_kernel_alloc.blocks[i] && fm_kernel_alloc.sizes[i] == size) {
      block = fm_kernel_alloc.blocks[i];
      fm_kernel_alloc.blocks[i] = NULL;
      break;
    }
  if (!block)
    ++fm_kernel_alloc.system_allocations;
  pthread_mutex_unlock(&fm_kernel_alloc.lock);
  if (!block) {
    size_t g = FM_KERNEL_ALLOC_GUARD;
    size_t total = g + (size + g - 1) / g * g + g;
    if (posix_memalign(&block, g, total) != 0)
      return NULL;
    *(size_t *)block = size;
  }
  return (char *)block + FM_KERNEL_ALLOC_GUARD;
}

static void fm_kernel_free(void *user_context, void *ptr) {
  (void)user_context;
  if (!ptr)
    return;
  void *block = (char *)ptr - FM_KERNEL_ALLOC_GUARD, *evicted = NULL;
  size_t size = *(size_t *)block;
  pthread_mutex_lock(&fm_kernel_alloc.lock);
  unsigned slot = FM_KERNEL_ALLOC_SLOTS;
  for (unsigned i = 0; i < FM_KERNEL_ALLOC_SLOTS && slot == FM_KERNEL_ALLOC_SLOTS; ++i)
    if (!fm_kernel_alloc.blocks[i])
      slot = i;
  if (slot == FM_KERNEL_ALLOC_SLOTS) {
    slot = fm_kernel_alloc.next;
    fm_kernel_alloc.next = (slot + 1) % FM_KERNEL_ALLOC_SLOTS;
    evicted = fm_kernel_alloc.blocks[slot];
  }
  fm_kernel_alloc.blocks[slot] = block;
  fm_kernel_alloc.sizes[slot] = size;
  pthread_mutex_unlock(&fm_kernel_alloc.lock);
  free(evicted);
}

static unsigned long long fm_kernel_system_allocations(void) {
  pthread_mutex_lock(&fm_kernel_alloc.lock);
  unsigned long long n = fm_kernel_alloc.system_allocations;
  pthread_mutex_unlock(&fm_kernel_alloc.lock);
  return n;
}

#endif /* FM_KERNEL_ALLOC_H */
