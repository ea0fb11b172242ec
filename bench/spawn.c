// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pc-bench-spawn: runs several commands N times each, interleaved, and
 * prints per-process wall time (median, mean, p10, p90) and peak RSS, so
 * that peers are measured side by side under the same machine noise.  Each
 * round runs every command once in a shuffled order (a fixed-seed PRNG, so
 * runs are repeatable): a command never always follows the same one, whose
 * cache footprint would otherwise bias it.
 *
 * usage: pc-bench-spawn N -- LABEL CMD [ARGS...] -- LABEL CMD [ARGS...] ...
 * Output: one tab-separated line per command:
 *   label  median_us  mean_us  p10_us  p90_us  maxrss_kib  failures  cpu_median_us
 * (the last: the median of the CPU time, user and system, of each run).
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
	const char *label;
	char **argv;
	double *us, *cpu;
	long maxrss;
	int failures;
};

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct cmd cmds[16];
	int ncmds = 0, runs;
	posix_spawn_file_actions_t fa;

	if (argc < 5 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: pc-bench-spawn N -- LABEL CMD [ARGS...] [-- ...]\n");
		return 2;
	}
	runs = atoi(argv[1]);
	if (runs < 1 || runs > 100000) {
		fprintf(stderr, "pc-bench-spawn: N must be 1..100000\n");
		return 2;
	}
	for (int i = 3; i < argc && ncmds < 16;) {
		struct cmd *c = &cmds[ncmds++];
		c->label = argv[i++];
		c->argv = &argv[i];
		while (i < argc && strcmp(argv[i], "--") != 0)
			i++;
		if (i < argc)
			argv[i++] = NULL;
		c->us = calloc((size_t)runs, sizeof(double));
		c->cpu = calloc((size_t)runs, sizeof(double));
		c->maxrss = 0;
		c->failures = 0;
		if (!c->us || !c->cpu || !c->argv[0]) {
			fprintf(stderr, "pc-bench-spawn: bad command %s\n", c->label);
			return 2;
		}
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int order[16];

	for (int k = 0; k < ncmds; k++)
		order[k] = k;
	for (int r = 0; r < runs; r++) {
		for (int k = ncmds - 1; k > 0; k--) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			int j = (int)(rng % (uint64_t)(k + 1)), t = order[k];
			order[k] = order[j];
			order[j] = t;
		}
		for (int o = 0; o < ncmds; o++) {
			struct cmd *c = &cmds[order[o]];
			struct rusage ru = {0};
			int status;
			pid_t pid;
			double t0 = now_us();

			if (posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, environ) != 0) {
				c->failures++;
				c->us[r] = 0;
				continue;
			}
			if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
					WEXITSTATUS(status) != 0)
				c->failures++;
			c->us[r] = now_us() - t0;
			c->cpu[r] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
				    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
			if (ru.ru_maxrss > c->maxrss)
				c->maxrss = ru.ru_maxrss;
		}
	}
	for (int k = 0; k < ncmds; k++) {
		struct cmd *c = &cmds[k];
		double sum = 0;

		for (int r = 0; r < runs; r++)
			sum += c->us[r];
		qsort(c->us, (size_t)runs, sizeof(double), cmp_double);
		qsort(c->cpu, (size_t)runs, sizeof(double), cmp_double);
		printf("%s\t%.0f\t%.0f\t%.0f\t%.0f\t%ld\t%d\t%.0f\n", c->label, c->us[runs / 2],
				sum / runs, c->us[runs / 10], c->us[runs * 9 / 10], c->maxrss,
				c->failures, c->cpu[runs / 2]);
		free(c->us);
		free(c->cpu);
	}
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}
