/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The one place outside the command line that ends the process: nothing
 * useful can go on without the memory, and nothing is left half done (apply
 * allocates nothing once its transaction is sent).  _exit(): no stdio
 * buffers flushed and no handlers run with the heap exhausted; no abort(),
 * so no core file and no status that looks like a crash.
 */
PC_NORETURN void pc_oom_size(size_t size)
{
	static const char msg[] = "portcullis: out of memory (";
	char num[24];
	size_t n = sizeof(num);

	/* Written without stdio, which may itself need memory. */
	do
		num[--n] = (char)('0' + size % 10);
	while ((size /= 10) && n);
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)!write(STDERR_FILENO, num + n, sizeof(num) - n);
	static const char tail[] = " bytes); stopped, no ruleset was changed\n";
	(void)!write(STDERR_FILENO, tail, sizeof(tail) - 1);
	_exit(PC_OOM_EXIT);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		pc_oom_size(size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		pc_oom_size(n * size);
	return p;
}

void *pc_zpages(size_t size)
{
	void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);

	if (p == MAP_FAILED)
		pc_oom_size(size);
	return p;
}

void pc_zpages_free(void *p, size_t size)
{
	if (p)
		munmap(p, size ? size : 1);
}

void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q)
		pc_oom_size(size);
	return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		pc_oom_size(SIZE_MAX);
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct pc_buf b;
	va_list ap;
	int n;

	pc_buf_init(&b);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		pc_oom_size(0);
	pc_buf_reserve(&b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.data;
}

void pc_buf_init(struct pc_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void pc_buf_finish(struct pc_buf *b)
{
	free(b->data);
	pc_buf_init(b);
}

void pc_buf_reserve(struct pc_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	if (b->len == 0)
		b->data[0] = '\0';
}

size_t pc_buf_add(struct pc_buf *b, const void *p, size_t n)
{
	size_t off = b->len;

	pc_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return off;
}

size_t pc_buf_adds(struct pc_buf *b, const char *s)
{
	return pc_buf_add(b, s, strlen(s));
}

void pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	pc_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

struct pc_arena_block {
	struct pc_arena_block *next;
	size_t size;
	max_align_t data[];
};

#define ARENA_BLOCK (64u << 10)

void pc_arena_init(struct pc_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void pc_arena_finish(struct pc_arena *a)
{
	while (a->head) {
		struct pc_arena_block *b = a->head;
		a->head = b->next;
		free(b);
	}
	pc_arena_init(a);
}

void *pc_arena_alloc(struct pc_arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	a->used = (a->used + 7) & ~(size_t)7; /* after a string (blocks are multiples of 8) */
	if (!a->head || a->size - a->used < n) {
		size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		struct pc_arena_block *b = xmalloc(sizeof(*b) + size);
		b->size = size;
		if (n > ARENA_BLOCK / 4 && a->head) {
			/* A big one gets a block of its own behind the current head. */
			b->next = a->head->next;
			a->head->next = b;
			memset(b->data, 0, n);
			a->total += n;
			return b->data;
		}
		b->next = a->head;
		a->head = b;
		a->used = 0;
		a->size = size;
	}
	void *p = (char *)a->head->data + a->used;
	a->used += n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

char *pc_arena_strndup(struct pc_arena *a, const char *s, size_t n)
{
	char *p;

	/* Strings need no alignment: packed, a network's addresses take 11 bytes each, not 16. */
	if (a->head && a->size - a->used > n) {
		p = (char *)a->head->data + a->used;
		a->used += n + 1;
		a->total += n + 1;
	} else {
		p = pc_arena_alloc(a, n + 1);
	}

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int pc_read_stream(FILE *f, size_t max, struct pc_buf *out)
{
	pc_buf_init(out);
	pc_buf_add(out, "", 0);
	for (;;) {
		pc_buf_reserve(out, 65536);
		size_t n = fread(out->data + out->len, 1, out->cap - out->len - 1, f);
		out->len += n;
		out->data[out->len] = '\0';
		if (out->len > max) {
			pc_buf_finish(out);
			errno = EFBIG;
			return -1;
		}
		if (n == 0) {
			if (ferror(f)) {
				int err = errno ? errno : EIO;
				pc_buf_finish(out);
				errno = err;
				return -1;
			}
			return 0;
		}
	}
}

static int read_file_append(const char *path, int flags, size_t max, struct pc_buf *out)
{
	struct stat st;
	size_t base = out->len;
	int fd, err = 0;

	/* O_NONBLOCK so that opening a FIFO never waits for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		err = EFBIG;
		goto out;
	}
	/* One allocation of the right size, a byte over to see the end in (a power of two
	 * would be up to twice the file); growth only if the file grows meanwhile. */
	size_t need = out->len + (size_t)st.st_size + 2;
	if (need > out->cap) {
		out->data = xrealloc(out->data, need);
		out->cap = need;
	}
	for (;;) {
		if (out->len - base > max) {
			err = EFBIG;
			goto out;
		}
		if (out->cap - out->len - 1 == 0)
			pc_buf_reserve(out, 65536);
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	if (out->len - base > max)
		err = EFBIG;
out:
	close(fd);
	if (out->data)
		out->data[err ? base : out->len] = '\0';
	if (err) {
		out->len = base;
		errno = err;
		return -1;
	}
	return 0;
}

int pc_read_file_append(const char *path, size_t max, struct pc_buf *out)
{
	return read_file_append(path, 0, max, out);
}

static int read_file(const char *path, int flags, size_t max, struct pc_buf *out)
{
	pc_buf_init(out);
	if (read_file_append(path, flags, max, out) < 0)
		return -1;
	if (!out->data)
		pc_buf_add(out, "", 0);
	return 0;
}

int pc_read_file(const char *path, size_t max, struct pc_buf *out)
{
	return read_file(path, 0, max, out);
}

int pc_read_file_nofollow(const char *path, size_t max, struct pc_buf *out)
{
	return read_file(path, O_NOFOLLOW, max, out);
}

int pc_strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;

		if (ca == cb) {
			if (!ca)
				return 0;
			continue;
		}
		ca = (unsigned char)pc_fold((char)ca);
		cb = (unsigned char)pc_fold((char)cb);
		if (ca != cb)
			return ca - cb;
	}
}

bool pc_streq_fold(const char *a, const char *b)
{
	return pc_strcasecmp(a, b) == 0;
}

bool pc_startswith_fold(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (pc_fold(*s) != pc_fold(*prefix))
			return false;
	return true;
}

size_t pc_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
			(cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

unsigned pc_edit_distance(const char *a, const char *b, unsigned limit)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned rows[3][65];
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (la > 64 || lb > 64)
		return limit + 1;
	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned best = limit + 1;

		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			char ca = pc_fold(a[i - 1]), cb = pc_fold(b[j - 1]);
			unsigned cost = ca == cb ? 0 : 1;
			unsigned v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && ca == pc_fold(b[j - 2]) && pc_fold(a[i - 2]) == cb &&
					prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > limit)
			return limit + 1;
		unsigned *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

size_t pc_text_char(const unsigned char *p, size_t n, bool *unsafe)
{
	size_t len = pc_utf8_seq(p, n);
	unsigned char c = *p;

	*unsafe = len == 0 || (len == 1 && (c < 0x20 || c == 0x7f)) ||
		  (len == 2 && c == 0xc2 && p[1] < 0xa0) ||
		  (len == 3 && c == 0xe2 && p[1] == 0x80 &&
				  ((p[2] >= 0x8b && p[2] <= 0x8f) ||
						  (p[2] >= 0xa8 && p[2] <= 0xae))) ||
		  (len == 3 && c == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
	return len ? len : 1;
}

#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* a kernel before 5.14 refuses it: nothing happens */
#endif

/* `advice` for the whole units of `align` bytes inside [p, p + len); the end of the last, or 0. */
static uintptr_t advise_inside(const void *p, size_t len, uintptr_t align, int advice)
{
	uintptr_t from = ((uintptr_t)p + align - 1) & ~(align - 1);
	uintptr_t to = ((uintptr_t)p + len) & ~(align - 1);

	if (to <= from)
		return 0;
	madvise((void *)from, to - from, advice);
	return to;
}

void pc_pages_release(const void *p, size_t len)
{
	advise_inside(p, len, (uintptr_t)sysconf(_SC_PAGESIZE), MADV_DONTNEED);
}

void pc_pages_release_upto(const void *p, size_t *done, size_t upto, size_t step, size_t align)
{
	if (upto - *done < step)
		return;
	uintptr_t to = advise_inside((const char *)p + *done, upto - *done, align, MADV_DONTNEED);
	if (to)
		*done = to - (uintptr_t)p;
}

void pc_pages_huge(void *p, size_t len)
{
	advise_inside(p, len, PC_HUGE_PAGE, MADV_HUGEPAGE);
}

void pc_pages_populate(void *p, size_t len)
{
	advise_inside(p, len, (uintptr_t)sysconf(_SC_PAGESIZE), MADV_POPULATE_WRITE);
}
