/* json_budget.h - a per-thread cap on the memory jansson may hold, so one
 * hostile document makes a parse fail ("out of memory") instead of the relay. */
#ifndef XR_JSON_BUDGET_H
#define XR_JSON_BUDGET_H

#include <stddef.h>

/* Installs the counting allocator into jansson (json_set_alloc_funcs), once
 * per process whatever the number of calls or threads. Its blocks are plain
 * malloc blocks (no header), so text jansson hands out (json_dumps) may still
 * be released with free(), and installing it late is safe. Until a thread
 * sets a limit its allocations are only counted. */
void xr_json_budget_install(void);

/* Frees a block jansson allocated for the caller (the text of json_dumps)
 * with jansson's current free function, so the count sees it; accepts NULL.
 * free() is also correct, it only leaves the count overstated. */
void xr_json_free(void *p);

/* Sets the calling thread's limit on the jansson bytes it holds (0: none)
 * and returns the previous one. An allocation that would take the thread
 * over its limit fails, so jansson reports "out of memory" and frees what it
 * had built. A thread's count goes down for the blocks it frees, whichever
 * thread allocated them, and never below zero. */
size_t xr_json_budget_set(size_t max_live_bytes);

/* The bytes (malloc_usable_size) jansson holds as counted for the calling
 * thread. */
size_t xr_json_budget_live(void);

#endif
