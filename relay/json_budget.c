/* json_budget.c - jansson's allocator, counting the bytes each thread holds
 * and refusing what would take it over its limit. */
#include "json_budget.h"

#include <pthread.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

/* No header on the blocks: the relay frees what json_dumps returns with
 * plain free(), as jansson's documentation allows with the default
 * allocator, so a block must stay a plain malloc block. Sizes come from
 * malloc_usable_size. A thread's count goes down for the blocks it frees,
 * whichever thread allocated them, and never below zero; blocks freed with
 * free() directly are not seen, so the count can only overstate. */
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static _Thread_local size_t live;
static _Thread_local size_t limit;

static void *budget_malloc(size_t n)
{
	if (limit && (n > limit || live > limit - n))
		return NULL;
	void *p = malloc(n);
	if (p)
		live += malloc_usable_size(p);
	return p;
}

static void budget_free(void *p)
{
	if (!p)
		return;
	size_t n = malloc_usable_size(p);
	live = live > n ? live - n : 0;
	free(p);
}

static void install(void)
{
	json_set_alloc_funcs(budget_malloc, budget_free);
}

void xr_json_budget_install(void)
{
	pthread_once(&install_once, install);
}

size_t xr_json_budget_set(size_t max_live_bytes)
{
	size_t old = limit;
	limit = max_live_bytes;
	return old;
}

void xr_json_free(void *p)
{
	json_malloc_t m;
	json_free_t f;
	json_get_alloc_funcs(&m, &f);
	if (p)
		f(p);
}

size_t xr_json_budget_live(void)
{
	return live;
}
