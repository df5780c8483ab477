// SPDX-License-Identifier: GPL-2.0-only
/*
 * kunit_results: the results of the KUnit suites the guest kernel ran at
 * boot (built in, CONFIG_KUNIT_DEBUGFS), as one KTAP document on stdout.
 *
 * Each /sys/kernel/debug/kunit/<suite>/results is a KTAP document of one
 * test, the suite, with the suite's cases as subtests. This prints a plan
 * of one test per suite and each suite's lines without their own header,
 * renumbered, so that scripts/verdict parses the whole with the kernel's
 * KTAP parser like any selftest and reports every case.
 *
 * Only the suites named on the command line are printed (all when none
 * is): a suite that is missing is reported as a failed test, so that a
 * suite that stops being built cannot pass unnoticed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUNIT_DIR "/sys/kernel/debug/kunit"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print @suite as test number @n; returns 0 if its results were read. */
static int print_suite(const char *suite, int n)
{
	char path[512], line[4096], last[4096] = "";
	const char *rest;
	int header = 2;
	FILE *f;

	snprintf(path, sizeof(path), KUNIT_DIR "/%s/results", suite);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* Drop the document's own "KTAP version 1" and "1..1" */
		if (header && (!strncmp(line, "KTAP version", 12) ||
			       !strncmp(line, "1..", 3))) {
			header--;
			continue;
		}
		/* The suite's own result line is the last unindented one */
		if (line[0] != ' ' && line[0] != '\t' && line[0] != '#' &&
		    (!strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7))) {
			strcpy(last, line);
			continue;
		}
		fputs(line, stdout);
	}
	fclose(f);
	if (!last[0])
		return -1;
	/* "ok 1 name..." or "not ok 1 name...": renumber */
	rest = strchr(last + (last[0] == 'n' ? 7 : 3), ' ');
	printf("%s %d%s", last[0] == 'n' ? "not ok" : "ok", n,
	       rest ? rest : "\n");
	return 0;
}

int main(int argc, char **argv)
{
	char **names = NULL;
	int nr = 0, i, bad = 0;

	if (argc > 1) {
		names = argv + 1;
		nr = argc - 1;
	} else {
		struct dirent *de;
		DIR *d = opendir(KUNIT_DIR);

		if (!d) {
			printf("KTAP version 1\n1..0 # SKIP no %s\n", KUNIT_DIR);
			return 0;
		}
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			names = realloc(names, (nr + 1) * sizeof(*names));
			if (!names)
				return 1;
			names[nr++] = strdup(de->d_name);
		}
		closedir(d);
		qsort(names, nr, sizeof(*names), cmp);
	}

	printf("KTAP version 1\n1..%d\n", nr);
	for (i = 0; i < nr; i++) {
		if (print_suite(names[i], i + 1)) {
			printf("not ok %d %s # suite not found in %s\n", i + 1,
			       names[i], KUNIT_DIR);
			bad = 1;
		}
	}
	fflush(stdout);
	return bad;
}
