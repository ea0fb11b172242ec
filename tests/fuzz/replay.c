// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replays fuzz inputs without libFuzzer: every file named, and every file in
 * every directory named, goes once through LLVMFuzzerTestOneInput().  Built
 * with each target so that CI runs the corpora (and the crashes found
 * earlier) under the sanitizers and valgrind without a fuzzing compiler.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, size_t *count)
{
	struct pc_buf b;

	if (pc_read_file(path, 64u << 20, &b) < 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)b.data, b.len);
	pc_buf_finish(&b);
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i], &count);
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, alphasort);
		for (int k = 0; k < n; k++) {
			if (names[k]->d_name[0] != '.') {
				char *path = xasprintf("%s/%s", argv[i], names[k]->d_name);
				struct stat fst;
				if (stat(path, &fst) == 0 && S_ISREG(fst.st_mode))
					bad |= run_file(path, &count);
				free(path);
			}
			free(names[k]);
		}
		free(names);
	}
	printf("%zu passed, %d failed\n", count, bad);
	return bad;
}
