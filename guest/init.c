// SPDX-License-Identifier: GPL-2.0-only
/*
 * /init of the test guest: a pseries kernel booted by scripts/boot with
 * an initramfs made by scripts/mkinitramfs.
 *
 * 1. Mounts proc, sysfs, devtmpfs, debugfs and a tmpfs on /tmp.
 * 2. Hands every test PCI device (QEMU "edu", 1234:11e8) to vfio-pci and
 *    exports their addresses in the environment of the tests
 *    (IOMMUFD_TEST_PCI_DEVICES, space separated, in PCI address order).
 *    It also binds the other devices of their IOMMU groups (a PE's other
 *    functions), which VFIO needs bound to vfio-pci too, but does not
 *    export them: the tests that use them know their addresses.
 * 3. Runs each test of /tests/list ("name timeout-seconds [args...]") in a
 *    session of its own, output to the results channel (/dev/hvc1, the
 *    second QEMU vty, else the console), framed by
 *        @@@ BEGIN <name>
 *        @@@ END <name> exit=<n> | signal=<n> | watchdog=<seconds>
 *    and kills it (and its children) when its watchdog expires.
 * 4. With kmemleak, scans for leaks and prints them on the console.
 * 5. Prints the sentinel line on the console and the results channel and
 *    powers the machine off.
 *
 * It never decides whether a test passed: scripts/verdict does that from
 * what it prints.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SENTINEL "@@@ SENTINEL iommufd-spapr guest: all tests ran"
#define TEST_VENDOR "0x1234"
#define TEST_DEVICE "0x11e8"

static FILE *console;
static FILE *results;

static void say(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

static void do_mount(const char *src, const char *dst, const char *type)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, 0, NULL) && errno != EBUSY)
		say(console, "init: mount %s on %s: %s\n", type, dst,
		    strerror(errno));
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Appends @bdf to the space-separated @list */
static void list_add(char *list, size_t len, const char *bdf)
{
	if (list[0])
		strncat(list, " ", len - strlen(list) - 1);
	strncat(list, bdf, len - strlen(list) - 1);
}

/* Hands @bdf to vfio-pci; 0, or -1 after saying why not */
static int bind_vfio(const char *bdf)
{
	char path[512], val[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 bdf);
	write_str(path, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	if (write_str(path, "vfio-pci") ||
	    write_str("/sys/bus/pci/drivers_probe", bdf)) {
		say(console, "init: binding %s to vfio-pci: %s\n", bdf,
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, val, sizeof(val) - 1);
	if (n < 0 || (val[n] = 0, strcmp(basename(val), "vfio-pci"))) {
		say(console, "init: %s is not bound to vfio-pci after probe\n",
		    bdf);
		return -1;
	}
	say(console, "init: %s bound to vfio-pci\n", bdf);
	return 0;
}

static bool is_edu(const char *bdf)
{
	char path[512], val[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	if (read_str(path, val, sizeof(val)) || strcmp(val, TEST_VENDOR))
		return false;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
	return !read_str(path, val, sizeof(val)) && !strcmp(val, TEST_DEVICE);
}

/* Bind every edu device to vfio-pci; returns their addresses. */
static void bind_test_devices(char *list, size_t len)
{
	struct dirent **ents;
	int i, n;

	list[0] = 0;
	n = scandir("/sys/bus/pci/devices", &ents, NULL, cmp_names);
	for (i = 0; i < n; i++) {
		const char *bdf = ents[i]->d_name;

		if (bdf[0] != '.' && is_edu(bdf) && !bind_vfio(bdf))
			list_add(list, len, bdf);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

/*
 * Bind the devices that share an IOMMU group with the edus of @edus but
 * are not edus (a PE's other functions) to vfio-pci, so that VFIO finds
 * the groups viable; returns their addresses.
 */
static void bind_group_peers(const char *edus, char *list, size_t len)
{
	char copy[1024], path[512], *save = NULL, *bdf;
	struct dirent **ents;
	int i, n;

	list[0] = 0;
	snprintf(copy, sizeof(copy), "%s", edus);
	for (bdf = strtok_r(copy, " ", &save); bdf;
	     bdf = strtok_r(NULL, " ", &save)) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/iommu_group/devices", bdf);
		n = scandir(path, &ents, NULL, cmp_names);
		for (i = 0; i < n; i++) {
			const char *peer = ents[i]->d_name;

			/* A group of two edus and a peer has it once */
			if (peer[0] != '.' && !is_edu(peer) &&
			    !strstr(list, peer) && !bind_vfio(peer))
				list_add(list, len, peer);
			free(ents[i]);
		}
		if (n >= 0)
			free(ents);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The binaries "guest_tests=a,b" on the kernel command line names, if it
 * names any: a second boot of the same initramfs (scripts/boot --append)
 * runs only those. Empty means all of /tests/list.
 */
static char only_tests[256];

static void read_only_tests(void)
{
	char cmdline[4096], *p;
	FILE *f = fopen("/proc/cmdline", "r");
	size_t n;

	if (!f)
		return;
	n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	cmdline[n] = 0;
	p = strstr(cmdline, "guest_tests=");
	if (!p || (p != cmdline && p[-1] != ' '))
		return;
	p += strlen("guest_tests=");
	snprintf(only_tests, sizeof(only_tests), ",%.*s,",
		 (int)strcspn(p, " \n"), p);
}

/* Does the command line let @name run? */
static int test_selected(const char *name)
{
	char key[128];

	if (!only_tests[0])
		return 1;
	snprintf(key, sizeof(key), ",%s,", name);
	return strstr(only_tests, key) != NULL;
}

static void run_test(char *line)
{
	char *argv[32], *save = NULL, *tok, *name, path[256];
	int argc = 0, status, timeout;
	double t0;
	pid_t pid, w;

	name = strtok_r(line, " \t\n", &save);
	tok = strtok_r(NULL, " \t\n", &save);
	if (!name || name[0] == '#')
		return;
	if (!test_selected(name)) {
		say(console, "init: %s not selected by guest_tests=\n", name);
		return;
	}
	timeout = tok ? atoi(tok) : 0;
	if (timeout <= 0)
		timeout = 300;
	snprintf(path, sizeof(path), "/tests/%s", name);
	argv[argc++] = path;
	while (argc < 31 && (tok = strtok_r(NULL, " \t\n", &save)))
		argv[argc++] = tok;
	argv[argc] = NULL;

	say(console, "init: running %s (watchdog %d s)\n", name, timeout);
	say(results, "@@@ BEGIN %s\n", name);
	t0 = now();
	pid = fork();
	if (pid == 0) {
		setsid();
		dup2(fileno(results), 1);
		dup2(fileno(results), 2);
		if (chdir("/tmp"))
			_exit(126);
		execv(path, argv);
		printf("init: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		say(results, "@@@ END %s exit=127\n", name);
		return;
	}
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (now() - t0 > timeout) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			say(results, "\n@@@ END %s watchdog=%d\n", name, timeout);
			say(console, "init: %s killed by the watchdog after %d s\n",
			    name, timeout);
			return;
		}
		usleep(20000);
	}
	/* Kill what the test left behind in its session. */
	kill(-pid, SIGKILL);
	if (WIFEXITED(status))
		say(results, "\n@@@ END %s exit=%d\n", name, WEXITSTATUS(status));
	else
		say(results, "\n@@@ END %s signal=%d\n", name, WTERMSIG(status));
	say(console, "init: %s done in %.1f s\n", name, now() - t0);
}

/*
 * With CONFIG_DEBUG_KMEMLEAK, scan for leaked kernel objects once the tests
 * are done and print what was found on the console, where scripts/verdict
 * treats any "unreferenced object" as a failure. Objects younger than
 * about 5 s are not reported, hence the wait.
 */
static void kmemleak_report(void)
{
	const char *path = "/sys/kernel/debug/kmemleak";
	char buf[4096];
	ssize_t n;
	int fd;

	if (access(path, F_OK))
		return;
	sleep(6);
	if (write_str(path, "scan") || write_str(path, "scan")) {
		say(console, "init: kmemleak scan failed: %s\n", strerror(errno));
		return;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		say(console, "init: kmemleak scan failed: %s\n", strerror(errno));
		return;
	}
	say(console, "init: kmemleak scan done\n");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, console);
	fflush(console);
	close(fd);
}

int main(void)
{
	char devices[1024], peers[1024], line[512];
	FILE *list;
	int fd;

	do_mount("devtmpfs", "/dev", "devtmpfs");
	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	console = stdout;
	do_mount("proc", "/proc", "proc");
	do_mount("sysfs", "/sys", "sysfs");
	do_mount("debugfs", "/sys/kernel/debug", "debugfs");
	/* The rtas_input event, which vfio_spapr_edu counts RTAS calls with */
	do_mount("tracefs", "/sys/kernel/tracing", "tracefs");
	/* cgroup2: vfio_spapr_edu measures what its memcg is charged */
	do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2");
	do_mount("tmpfs", "/tmp", "tmpfs");

	results = fopen("/dev/hvc1", "w");
	if (!results) {
		say(console, "init: no /dev/hvc1 (%s), results go to the console\n",
		    strerror(errno));
		results = console;
	}

	bind_test_devices(devices, sizeof(devices));
	setenv("IOMMUFD_TEST_PCI_DEVICES", devices, 1);
	bind_group_peers(devices, peers, sizeof(peers));
	setenv("PATH", "/tests:/", 1);
	say(console, "init: test PCI devices: %s%s%s\n",
	    devices[0] ? devices : "(none)", peers[0] ? " " : "", peers);

	read_only_tests();
	list = fopen("/tests/list", "r");
	if (!list) {
		say(console, "init: /tests/list: %s\n", strerror(errno));
	} else {
		while (fgets(line, sizeof(line), list))
			run_test(line);
		fclose(list);
	}

	kmemleak_report();

	say(results, "%s\n", SENTINEL);
	if (results != console)
		say(console, "%s\n", SENTINEL);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
