/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers: case folding, UTF-8, edit distance, file reading, escaping, JSON,
 * pages, files replaced whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "json.h"
#include "newfile.h"
#include "portcullis/diag.h"
#include "sha256.h"
#include "util.h"

/* Which of the n pages from p are present. */
static void resident(const char *p, size_t n, unsigned char *v)
{
	assert_int_equal(mincore((void *)p, n * (size_t)sysconf(_SC_PAGESIZE), v), 0);
	for (size_t i = 0; i < n; i++)
		v[i] &= 1;
}

static void test_pages_ahead(void **state)
{
	(void)state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), step = PC_POPULATE_STEP / page;
	size_t len = 3 * PC_POPULATE_STEP + PC_POPULATE_STEP / 2, n = len / page;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char v[3 * PC_POPULATE_STEP / 4096 + PC_POPULATE_STEP / 8192];

	assert_true(p != MAP_FAILED);
	assert_true(n <= sizeof(v));
#ifdef MADV_POPULATE_WRITE
	if (madvise(p, page, MADV_POPULATE_WRITE) != 0) {
		munmap(p, len);
		skip(); /* a kernel before 5.14 */
	}
#endif
	madvise(p, page, MADV_DONTNEED);
	resident(p, n, v);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], 0);
	/* Within the first step, and within a later one: nothing is made present. */
	pc_pages_ahead(p, 0, 100, len);
	pc_pages_ahead(p, PC_POPULATE_STEP + 8, PC_POPULATE_STEP + 100, len);
	resident(p, n, v);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], 0);
	/* Into the second step: its pages, and no other. */
	pc_pages_ahead(p, PC_POPULATE_STEP - 10, PC_POPULATE_STEP + 14, len);
	resident(p, n, v);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], i >= step && i < 2 * step);
	/* Into the last, cut by the array's end. */
	pc_pages_ahead(p, 3 * PC_POPULATE_STEP - 1, 3 * PC_POPULATE_STEP + 1, len);
	resident(p, n, v);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], (i >= step && i < 2 * step) || i >= 3 * step);
	/* Present and zero, as pages first written are. */
	for (size_t i = step * page; i < 2 * step * page; i++)
		assert_int_equal(p[i], 0);
	munmap(p, len);
}

/*
 * Memory given back in order: nothing until a step is read, then whole units
 * (pages here) up to where reading is, and `done` moved there; the pages past
 * it stay.
 */
static void test_pages_release_upto(void **state)
{
	(void)state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 64, len = n * page;
	char *m = mmap(NULL, len + 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	unsigned char v[64];
	size_t done = 0;

	assert_true(m != MAP_FAILED);
	/* Units of 4 pages are 4 pages apart in the address space: p starts one. */
	char *p = (char *)(((uintptr_t)m + 4 * page - 1) & ~(uintptr_t)(4 * page - 1));
	memset(p, 1, len);
	/* Less than a step read: all kept. */
	pc_pages_release_upto(p, &done, 7 * page + 100, 8 * page, page);
	assert_int_equal(done, 0);
	/* A step and a part of a page: the whole pages before it go, done stops at the page. */
	pc_pages_release_upto(p, &done, 8 * page + 100, 8 * page, page);
	assert_int_equal(done, 8 * page);
	resident(p, n, v);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], i >= 8);
	assert_int_equal(p[8 * page], 1);
	assert_int_equal(p[page], 0); /* given back: zero when read again */
	/* In units of 4 pages: from done to the last whole unit before 21 pages. */
	pc_pages_release_upto(p, &done, 21 * page, 8 * page, 4 * page);
	assert_int_equal(done, 20 * page);
	resident(p, n, v);
	for (size_t i = 9; i < n; i++)
		assert_int_equal(v[i], i >= 20);
	munmap(m, len + 4 * page);
}

/* Whether the mapping holding p is marked for huge pages (VmFlags "hg" in smaps). */
static bool marked_huge(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false, hg = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			hg = strstr(line, " hg") != NULL;
			break;
		}
	}
	fclose(f);
	return hg;
}

/* Huge pages asked for the whole 2 MiB ranges inside a range, and not outside them. */
static void test_pages_huge(void **state)
{
	(void)state;
	size_t len = 4 * PC_HUGE_PAGE;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	char *a = (char *)(((uintptr_t)m + PC_HUGE_PAGE - 1) & ~(PC_HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
	if (madvise(a, PC_HUGE_PAGE, MADV_HUGEPAGE) != 0) {
		munmap(m, len);
		skip(); /* a kernel without transparent huge pages */
	}
	madvise(a, PC_HUGE_PAGE, MADV_NOHUGEPAGE);
#endif
	/* Less than a whole aligned huge page: nothing asked. */
	pc_pages_huge(a + 4096, PC_HUGE_PAGE);
	assert_false(marked_huge(a + 8192));
	/* From inside one to past the next: only the next, whole. */
	pc_pages_huge(a + 4096, 2 * PC_HUGE_PAGE);
	assert_false(marked_huge(a + 8192));
	assert_true(marked_huge(a + PC_HUGE_PAGE));
	assert_true(marked_huge(a + 2 * PC_HUGE_PAGE - 1));
	assert_false(marked_huge(a + 2 * PC_HUGE_PAGE));
	munmap(m, len);
}

static void test_fold_compare(void **state)
{
	(void)state;
	assert_int_equal(pc_strcasecmp("KERBEROS", "kerberos"), 0);
	assert_true(pc_strcasecmp("kerberos", "kerberos-adm") < 0);
	assert_true(pc_strcasecmp("b", "A") > 0);
	assert_true(pc_streq_fold("Kpasswd", "kPASSWD"));
	/* ASCII only: no locale folding of other bytes (the Turkish dotless i trap). */
	assert_false(pc_streq_fold("\xc4\xb1", "i"));
	assert_true(pc_startswith_fold("Reserved - IANA", "reserved"));
	assert_false(pc_startswith_fold("Res", "reserved"));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_int_equal(pc_utf8_seq((const unsigned char *)"a", 1), 1);
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xe2\x80\xae", 3), 3);
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xf0\x9f\x94\x92", 4), 4);
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xff", 1), 0);
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xc0\xaf", 2), 0); /* overlong */
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3), 0); /* surrogate */
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(pc_utf8_seq((const unsigned char *)"\xc3", 1), 0); /* truncated */
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(pc_edit_distance("kerbros", "kerberos", 3), 1);
	assert_int_equal(pc_edit_distance("kerbreos", "kerberos", 3), 1); /* transposition */
	assert_int_equal(pc_edit_distance("KPASSWD", "kpasswd", 3), 0);
	assert_true(pc_edit_distance("ssh", "kerberos-adm", 2) > 2);
}

static void test_read_file_refuses_non_regular(void **state)
{
	struct pc_buf b;
	char dir[] = "/tmp/pc-test-XXXXXX";
	char path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pc_read_file(dir, 1024, &b), -1);
	assert_int_equal(errno, EISDIR);

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pc_read_file(path, 1024, &b), -1); /* must not block */
	assert_int_equal(errno, EINVAL);
	unlink(path);

	assert_int_equal(pc_read_file("/dev/zero", 1024, &b), -1);
	assert_int_equal(errno, EINVAL);

	snprintf(path, sizeof(path), "%s/big", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 3000; i++)
		fputc('x', f);
	fclose(f);
	assert_int_equal(pc_read_file(path, 1024, &b), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(pc_read_file(path, 4096, &b), 0);
	assert_int_equal(b.len, 3000);
	assert_int_equal(b.data[3000], '\0');
	pc_buf_finish(&b);
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(pc_read_file(path, 1024, &b), -1);
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
}

static char *capture_escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pc_fputs_escaped(s, f);
	fclose(f);
	return buf;
}

static void test_escaping_for_terminals(void **state)
{
	char *out;

	(void)state;
	out = capture_escaped("a\nb\x1b[31mc\td\xff");
	assert_string_equal(out, "a\\nb\\x1b[31mc\\td\\xff");
	free(out);
	out = capture_escaped("bidi \xe2\x80\xae end, nel \xc2\x85, caf\xc3\xa9");
	assert_string_equal(out, "bidi \\u202e end, nel \\u0085, caf\xc3\xa9");
	free(out);
}

static void test_diag_print_format(void **state)
{
	struct pc_diags d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	pc_diags_init(&d);
	struct pc_diag *r = pc_diag_add(&d, PC_SEV_WARNING, "registry-conflict", "p.yaml", 14, 12,
			"krb5_prop resolves to %s", "754/tcp");
	pc_diag_hint(r, "use %s", "x\ny");
	pc_diag_add(&d, PC_SEV_ERROR, "io", "f", 0, 0, "cannot read");
	pc_diags_print(&d, f);
	fclose(f);
	assert_string_equal(buf,
			"p.yaml:14:12: warning: krb5_prop resolves to 754/tcp "
			"[registry-conflict]\n  hint: use x\\ny\nf: error: cannot read [io]\n");
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.nwarnings, 1);
	free(buf);
	pc_diags_finish(&d);
}

static void test_diag_limit(void **state)
{
	struct pc_diags d;

	(void)state;
	pc_diags_init(&d);
	d.max = 3;
	for (int i = 0; i < 10; i++)
		pc_diag_add(&d, PC_SEV_ERROR, "x", NULL, 0, 0, "e%d", i);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.dropped, 7);
	assert_int_equal(d.nerrors, 10);
	pc_diags_finish(&d);
}

static void test_json_strings(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct pc_json j;

	(void)state;
	pc_json_init(&j, f);
	pc_json_begin_object(&j);
	pc_json_key(&j, "s");
	pc_json_string(&j, "q\"b\\s\n\x01\xe2\x80\xa8\xff\xc3\xa9");
	pc_json_key(&j, "a");
	pc_json_begin_array(&j);
	pc_json_end_array(&j);
	pc_json_key(&j, "n");
	pc_json_uint(&j, 65535);
	pc_json_key(&j, "z");
	pc_json_string_or_null(&j, "");
	pc_json_end_object(&j);
	pc_json_finish(&j);
	fclose(f);
	assert_string_equal(buf, "{\n  \"s\": \"q\\\"b\\\\s\\n\\u0001\\u2028\\ufffd\xc3\xa9\",\n"
				 "  \"a\": [],\n  \"n\": 65535,\n  \"z\": null\n}\n");
	free(buf);
}

/* --Wno-CODE, --strict and the limit on what is shown: the counters follow the records. */
static void test_diag_filter(void **state)
{
	static const char *const wno[] = {"quiet"};
	struct pc_diags d;

	(void)state;
	pc_diags_init(&d);
	pc_diag_add(&d, PC_SEV_WARNING, "quiet", "f", 1, 1, "silenced");
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 2, 1, "kept");
	pc_diag_add(&d, PC_SEV_ERROR, "quiet", "f", 3, 1, "an error is never silenced");
	pc_diag_add(&d, PC_SEV_NOTE, NULL, "f", 4, 1, "a note");
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 5, 1, "past the limit");
	pc_diags_filter(&d, wno, 1, false, 3);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[1].line, 3);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.nwarnings, 2);
	assert_int_equal(d.dropped, 1);
	pc_diags_finish(&d);

	/* Warnings never hide an error past the limit: the errors are shown first. */
	pc_diags_init(&d);
	for (unsigned i = 1; i <= 5; i++)
		pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", i, 1, "many");
	pc_diag_add(&d, PC_SEV_ERROR, "bad", "f", 6, 1, "the one error");
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 7, 1, "after it");
	pc_diags_filter(&d, NULL, 0, false, 3);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[1].line, 2);
	assert_int_equal(d.v[2].line, 6);
	assert_int_equal(d.v[2].sev, PC_SEV_ERROR);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.nwarnings, 6);
	assert_int_equal(d.dropped, 4);
	pc_diags_finish(&d);

	/* More errors than the limit: the first errors, no warning. */
	pc_diags_init(&d);
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 1, 1, "a warning");
	for (unsigned i = 2; i <= 5; i++)
		pc_diag_add(&d, PC_SEV_ERROR, "bad", "f", i, 1, "an error");
	pc_diags_filter(&d, NULL, 0, false, 2);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[1].line, 3);
	assert_int_equal(d.dropped, 3);
	pc_diags_finish(&d);

	pc_diags_init(&d);
	d.max = 1;
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 1, 1, "kept");
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 2, 1, "dropped when added");
	pc_diags_filter(&d, NULL, 0, true, 0);
	assert_int_equal(d.v[0].sev, PC_SEV_ERROR);
	assert_int_equal(d.nerrors, 2);
	assert_int_equal(d.nwarnings, 0);
	pc_diags_set_severity(&d, 0, PC_SEV_WARNING);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.nwarnings, 1);
	pc_diags_finish(&d);
}

/*
 * Acknowledged records kept for a report (keep_acknowledged): with their
 * reason, not counted, left warnings by --strict, past the limit, never
 * printed; moved whole, counters too, by pc_diags_take().
 */
static void test_diag_keep_acknowledged(void **state)
{
	struct pc_diags d, to;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	pc_diags_init(&d);
	d.keep_acknowledged = true;
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 1, 1, "acknowledged");
	pc_diag_add(&d, PC_SEV_WARNING, "loud", "f", 2, 1, "shown");
	pc_diag_add(&d, PC_SEV_ERROR, "loud", "f", 3, 1, "an error");
	assert_true(pc_diags_acknowledge_because(&d, 0, "known"));
	assert_true(pc_diags_acknowledge_because(&d, 0, "a second reason is not kept"));
	assert_false(pc_diags_acknowledge_because(&d, 2, "errors are not acknowledged"));
	assert_null(d.v[2].reason);
	pc_diags_filter(&d, NULL, 0, true, 2);
	assert_int_equal(d.n, 3);
	assert_true(d.v[0].acknowledged);
	assert_int_equal(d.v[0].sev, PC_SEV_WARNING);
	assert_string_equal(d.v[0].reason, "known");
	assert_int_equal(d.nerrors, 2);
	assert_int_equal(d.nwarnings, 0);
	assert_int_equal(d.nacknowledged, 1);
	assert_int_equal(d.dropped, 0);
	FILE *f = open_memstream(&text, &len);
	pc_diags_print(&d, f);
	fclose(f);
	assert_null(strstr(text, "acknowledged"));
	assert_non_null(strstr(text, "f:2:1: error: shown [loud]"));
	free(text);

	pc_diags_init(&to);
	pc_diag_add(&to, PC_SEV_NOTE, NULL, "g", 1, 1, "first");
	pc_diags_take(&to, &d);
	assert_int_equal(to.n, 4);
	assert_int_equal(d.n, 0);
	assert_int_equal(to.nerrors, 2);
	assert_int_equal(to.nacknowledged, 1);
	assert_string_equal(to.v[1].reason, "known");
	pc_diags_finish(&d);
	pc_diags_finish(&to);
}

/* Every code has a description, looked up by the code. */
static void test_diag_code_texts(void **state)
{
	(void)state;
	for (size_t i = 0; i < pc_diag_ncodes; i++) {
		assert_string_equal(pc_diag_code_texts[i].code, pc_diag_codes[i]);
		assert_ptr_equal(pc_diag_code_text(pc_diag_codes[i]), pc_diag_code_texts[i].text);
		assert_true(strlen(pc_diag_code_texts[i].text) > 8);
	}
	assert_null(pc_diag_code_text("no-such-code"));
	assert_null(pc_diag_code_text(NULL));
}

/* FIPS 180-4's examples, and a million 'a' fed in pieces of every size. */
static void test_sha256_vectors(void **state)
{
	char hex[65];
	struct pc_sha256 s;
	static char a[1000];

	(void)state;
	for (int portable = 0; portable < 2; portable++) {
		pc_sha256_portable = portable;
		pc_sha256_of("", 0, hex);
		assert_string_equal(hex,
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		pc_sha256_of("abc", 3, hex);
		assert_string_equal(hex,
				"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
		pc_sha256_of(m, strlen(m), hex);
		assert_string_equal(hex,
				"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
		memset(a, 'a', sizeof(a));
		pc_sha256_init(&s);
		for (size_t done = 0, step = 1; done < 1000000; step = step % 997 + 1) {
			size_t n = 1000000 - done < step ? 1000000 - done : step;
			pc_sha256_update(&s, a, n);
			done += n;
		}
		pc_sha256_hex(&s, hex);
		assert_string_equal(hex,
				"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
	pc_sha256_portable = 0;
}

/*
 * The CPU's SHA instructions (where there are) and the portable code give
 * the same digest for every length around the block size and for any split
 * of the input into updates.
 */
static void test_sha256_paths_agree(void **state)
{
	uint8_t buf[1200];
	char fast[65], slow[65];
	uint32_t x = 2463534242u;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	for (size_t len = 0; len < sizeof(buf); len += len < 200 ? 1 : 37) {
		for (int portable = 0; portable < 2; portable++) {
			struct pc_sha256 s;
			size_t cut = len ? (x ^= x << 13, x ^= x >> 17, x ^= x << 5) % len : 0;
			pc_sha256_portable = portable;
			pc_sha256_init(&s);
			pc_sha256_update(&s, buf, cut);
			pc_sha256_update(&s, buf + cut, len - cut);
			pc_sha256_hex(&s, portable ? slow : fast);
		}
		assert_string_equal(fast, slow);
	}
	pc_sha256_portable = 0;
}

/* The names in directory d but "." and "..", sorted, joined by spaces ("" when none). */
static char *names_in(const char *d)
{
	struct dirent **v;
	int n = scandir(d, &v, NULL, alphasort);
	struct pc_buf b;

	assert_true(n >= 0);
	pc_buf_init(&b);
	pc_buf_adds(&b, "");
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, "..")) {
			if (b.len)
				pc_buf_adds(&b, " ");
			pc_buf_adds(&b, v[i]->d_name);
		}
		free(v[i]);
	}
	free(v);
	return b.data;
}

static void assert_names(const char *d, const char *want)
{
	char *got = names_in(d);
	assert_string_equal(got, want);
	free(got);
}

/* Whether the one name in d other than `name` is `name`.tmp-XXXXXX (six letters or digits). */
static bool temp_beside(const char *d, const char *name)
{
	char *got = names_in(d), want[64];
	snprintf(want, sizeof(want), "%s %s.tmp-", name, name);
	bool ok = strlen(got) == strlen(want) + 6 && !strncmp(got, want, strlen(want));
	for (size_t i = strlen(want); ok && got[i]; i++)
		ok = (got[i] >= 'a' && got[i] <= 'z') || (got[i] >= 'A' && got[i] <= 'Z') ||
		     (got[i] >= '0' && got[i] <= '9');
	free(got);
	return ok;
}

static void file_is(const char *path, const char *want)
{
	struct pc_buf b;
	pc_buf_init(&b);
	assert_int_equal(pc_read_file(path, 1 << 20, &b), 0);
	assert_string_equal(b.data, want);
	pc_buf_finish(&b);
}

static void put(struct pc_newfile *f, const char *text)
{
	assert_int_equal(write(f->fd, text, strlen(text)), (ssize_t)strlen(text));
}

/*
 * A file replaced whole: without a name while it is written (nothing to
 * leave behind), a temporary name beside the old one once linked, then
 * renamed over it; dropped before or after it is named, the old file stays
 * and nothing else is left; the named form (where O_TMPFILE is not had) has
 * its temporary name from the start; a rename that fails removes it.
 */
static void test_newfile(void **state)
{
	(void)state;
	char d[] = "/tmp/pc-test-newfile-XXXXXX", path[128], sub[160];
	struct pc_newfile f;

	assert_non_null(mkdtemp(d));
	int probe = open(d, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (probe < 0) {
		rmdir(d);
		skip(); /* a filesystem without files that have no name: the named form alone */
	}
	close(probe);
	snprintf(path, sizeof(path), "%s/f", d);
	FILE *o = fopen(path, "w");
	assert_non_null(o);
	fputs("old\n", o);
	fclose(o);
	/* Made and written: no new name yet, then one beside f once linked, then f. */
	assert_int_equal(pc_newfile_open(&f, AT_FDCWD, path, 0600), 0);
	put(&f, "new\n");
	assert_names(d, "f");
	assert_int_equal(pc_newfile_link(&f), 0);
	assert_true(temp_beside(d, "f"));
	assert_int_equal(pc_newfile_link(&f), 0); /* once */
	assert_true(temp_beside(d, "f"));
	assert_int_equal(pc_newfile_close(&f), 0);
	assert_int_equal(pc_newfile_commit(&f), 0);
	pc_newfile_finish(&f);
	assert_names(d, "f");
	file_is(path, "new\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Dropped unnamed, and dropped named: f as it was, nothing else. */
	assert_int_equal(pc_newfile_open(&f, AT_FDCWD, path, 0600), 0);
	put(&f, "lost\n");
	pc_newfile_finish(&f);
	assert_names(d, "f");
	assert_int_equal(pc_newfile_open(&f, AT_FDCWD, path, 0600), 0);
	put(&f, "lost\n");
	assert_int_equal(pc_newfile_link(&f), 0);
	pc_newfile_finish(&f);
	assert_names(d, "f");
	file_is(path, "new\n");
	/* Named from the start; committed without a separate close (the descriptor still open). */
	assert_int_equal(pc_newfile_open_named(&f, AT_FDCWD, path, 0600), 0);
	assert_true(temp_beside(d, "f"));
	put(&f, "named\n");
	assert_int_equal(pc_newfile_commit(&f), 0);
	pc_newfile_finish(&f);
	assert_names(d, "f");
	file_is(path, "named\n");
	assert_int_equal(pc_newfile_open_named(&f, AT_FDCWD, path, 0600), 0);
	pc_newfile_finish(&f);
	assert_names(d, "f");
	/* Ended in one call: kept (named, closed, renamed), or dropped. */
	assert_int_equal(pc_newfile_open(&f, AT_FDCWD, path, 0600), 0);
	put(&f, "done\n");
	assert_int_equal(pc_newfile_done(&f, true), 0);
	assert_names(d, "f");
	file_is(path, "done\n");
	assert_int_equal(pc_newfile_open(&f, AT_FDCWD, path, 0600), 0);
	put(&f, "lost\n");
	assert_int_equal(pc_newfile_done(&f, false), -1);
	assert_names(d, "f");
	file_is(path, "done\n");
	/* Through a directory's descriptor, a bare name. */
	int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(pc_newfile_open(&f, dfd, "g", 0644), 0);
	put(&f, "g\n");
	assert_int_equal(pc_newfile_commit(&f), 0);
	pc_newfile_finish(&f);
	assert_names(d, "f g");
	/* A rename that fails (a directory holding a file at the name): the new file removed. */
	snprintf(sub, sizeof(sub), "%s/h", d);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/h/x", d);
	o = fopen(sub, "w");
	assert_non_null(o);
	fclose(o);
	for (int named = 0; named < 2; named++) {
		assert_int_equal((named ? pc_newfile_open_named : pc_newfile_open)(
						 &f, dfd, "h", 0600),
				0);
		put(&f, "h\n");
		errno = 0;
		assert_int_equal(pc_newfile_commit(&f), -1);
		assert_true(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
		pc_newfile_finish(&f);
		assert_names(d, "f g h");
	}
	/* No such directory: nothing made, errno said. */
	snprintf(sub, sizeof(sub), "%s/none/f", d);
	errno = 0;
	assert_int_equal(pc_newfile_open(&f, AT_FDCWD, sub, 0600), -1);
	assert_int_equal(errno, ENOENT);
	pc_newfile_finish(&f);
	close(dfd);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/h/x", d);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/h", d);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/g", d);
	unlink(sub);
	unlink(path);
	assert_int_equal(rmdir(d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_fold_compare),
			cmocka_unit_test(test_pages_ahead),
			cmocka_unit_test(test_pages_release_upto),
			cmocka_unit_test(test_pages_huge),
			cmocka_unit_test(test_utf8),
			cmocka_unit_test(test_edit_distance),
			cmocka_unit_test(test_sha256_vectors),
			cmocka_unit_test(test_sha256_paths_agree),
			cmocka_unit_test(test_read_file_refuses_non_regular),
			cmocka_unit_test(test_escaping_for_terminals),
			cmocka_unit_test(test_diag_print_format),
			cmocka_unit_test(test_diag_filter),
			cmocka_unit_test(test_diag_limit),
			cmocka_unit_test(test_json_strings),
			cmocka_unit_test(test_diag_keep_acknowledged),
			cmocka_unit_test(test_diag_code_texts),
			cmocka_unit_test(test_newfile),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
