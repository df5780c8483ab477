// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCE benchmark: hypercalls (counted, exact) and wall clock (measured, never
 * judged) of DMA mapping on pseries, the legacy VFIO sPAPR TCE v2 container
 * against iommufd, on the same device in one guest run. On powernv, where
 * the kernel writes the TCE tables itself, the wall clock only: the hcall
 * checks are reported as skipped.
 *
 * For each window (the default 32-bit window with 4K TCEs; a DDW with 64K
 * TCEs where iommufd offers them, else its largest TCE size up to 64K), each
 * buffer kind (anonymous memory with transparent huge pages, and with
 * MADV_NOHUGEPAGE) and each size (64 MiB, 256 MiB, 1 GiB), the buffer is
 * mapped and unmapped NR_REPS times through each path. The hcalls come from
 * the HCALL_STATS counters in debugfs (hcall_inst/cpuN, summed over CPUs);
 * the times from CLOCK_MONOTONIC around the ioctl. The legacy container maps
 * memory preregistered (VFIO_IOMMU_SPAPR_REGISTER_MEMORY, as a VMM does for
 * all guest RAM at start), so its map time does not include pinning; the
 * preregistration time is printed apart. iommufd pins at IOMMU_IOAS_MAP.
 *
 * KTAP results, NR_TESTS in all:
 *  - one per path, window, kind and size: the maps and unmaps succeeded and
 *    the counters could be read;
 *  - one per iommufd window, kind, size and operation: the hcalls of every
 *    repetition are within the PAPR limit, ceil(TCEs / 512) for
 *    H_PUT_TCE_INDIRECT and H_STUFF_TCE, plus HCALL_SLACK, plus, for an
 *    unmap, one per batch iommufd unpins in (it must clear the TCEs of a
 *    batch before it unpins its pages; a batch records up to IOMMUFD_BATCH
 *    physically contiguous runs).
 * The table of times (median of NR_REPS, min..max), hcalls per TCE, the
 * iommufd/legacy time ratios, the per-TCE time scaling from 64 MiB to
 * 1 GiB, and the goals are "# tce_bench:" diagnostics.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#define NR_REPS		3
#define NR_SIZES	3
#define NR_KINDS	2
#define NR_WINDOWS	2
#define NR_PATHS	2
#define NR_MEAS		(NR_PATHS * NR_WINDOWS * NR_KINDS * NR_SIZES)
#define NR_CHECKS	(NR_WINDOWS * NR_KINDS * NR_SIZES * 2)
#define NR_TESTS	(NR_MEAS + NR_CHECKS)
#define DDW_SIZE	(1ULL << 30)
#define TCES_PER_HCALL	512
#define HCALL_SLACK	2
/* pfn_batch records per iommufd batch: TEMP_MEMORY_LIMIT / 12 bytes */
#define IOMMUFD_BATCH	(65536 / 12)
#define THP_SIZE	(2UL << 20)

static const size_t sizes[NR_SIZES] = { 64UL << 20, 256UL << 20, 1UL << 30 };
static const char *const size_name[NR_SIZES] = { "64M", "256M", "1G" };
static const char *const kind_name[NR_KINDS] = { "thp", "nothp" };
static const char *const win_name[NR_WINDOWS] = { "default", "ddw" };
static const char *const path_name[NR_PATHS] = { "legacy_v2", "iommufd" };

enum { H_GET_TCE, H_PUT_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, NR_HC };
static const unsigned long hc_opcode[NR_HC] = { 0x1c, 0x20, 0x138, 0x13c };

struct counts {
	unsigned long long n[NR_HC];
};

/* 0 on powernv, which writes its TCE tables without hypercalls */
static int have_hcalls = 1;

static int read_counts(struct counts *c)
{
	const char *dir = "/sys/kernel/debug/hcall_inst";
	struct dirent *d;
	DIR *dp;

	memset(c, 0, sizeof(*c));
	if (!have_hcalls)
		return 0;
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		char path[PATH_MAX], line[256];
		FILE *f;

		if (strncmp(d->d_name, "cpu", 3))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long op;
			unsigned long long calls;
			int i;

			if (sscanf(line, "%lu %llu", &op, &calls) != 2)
				continue;
			for (i = 0; i != NR_HC; i++)
				if (op == hc_opcode[i])
					c->n[i] += calls;
		}
		fclose(f);
	}
	closedir(dp);
	return 0;
}

static unsigned long long hcalls(const struct counts *a, const struct counts *b)
{
	unsigned long long total = 0;

	for (int i = 0; i != NR_HC; i++)
		total += b->n[i] - a->n[i];
	return total;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One cell of the table: a path, window, kind and size */
struct meas {
	int done;		/* every operation succeeded */
	int rc;			/* else the first errno */
	unsigned long tces;
	unsigned long runs;	/* physically contiguous runs of the buffer */
	unsigned long thp_kb;	/* AnonHugePages of the buffer */
	double map_ms[NR_REPS], unmap_ms[NR_REPS];
	unsigned long long map_hc[NR_REPS], unmap_hc[NR_REPS];
	double prereg_ms;	/* legacy only */
};

static struct meas table[NR_PATHS][NR_WINDOWS][NR_KINDS][NR_SIZES];

/* The windows, as iommufd reports them; the legacy path uses the same */
static struct {
	uint64_t start[NR_WINDOWS];
	uint64_t size[NR_WINDOWS];
	unsigned int shift[NR_WINDOWS];
	int have[NR_WINDOWS];
} win;

/* A way of mapping: the legacy container, or an IOAS of iommufd */
struct mapper {
	int (*map)(const struct mapper *m, void *va, uint64_t iova,
		   size_t size);
	int (*unmap)(const struct mapper *m, uint64_t iova, size_t size);
	int fd;
	__u32 ioas_id;
};

static int legacy_map(const struct mapper *mp, void *va, uint64_t iova,
		      size_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return ioctl(mp->fd, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static int legacy_unmap(const struct mapper *mp, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return ioctl(mp->fd, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

static int ioas_map(const struct mapper *mp, void *va, uint64_t iova,
		    size_t size)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = mp->ioas_id,
		.user_va = (uintptr_t)va, .length = size, .iova = iova,
	};

	return ioctl(mp->fd, IOMMU_IOAS_MAP, &m) ? -errno : 0;
}

static int ioas_unmap(const struct mapper *mp, uint64_t iova, size_t size)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = mp->ioas_id,
		.iova = iova, .length = size,
	};

	return ioctl(mp->fd, IOMMU_IOAS_UNMAP, &u) ? -errno : 0;
}

/* AnonHugePages (kB) of the mapping that starts at @va, from smaps */
static unsigned long thp_kb(void *va)
{
	unsigned long start, end, kb = 0, v;
	char line[256];
	int in = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start == (uintptr_t)va;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &v) == 1)
			kb = v;
	}
	fclose(f);
	return kb;
}

/* Physically contiguous runs of the buffer, from /proc/self/pagemap */
static unsigned long count_runs(void *va, size_t size)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t prev = 0, e;
	unsigned long runs = 0;
	size_t off;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	for (off = 0; off < size; off += psz) {
		if (pread(fd, &e, sizeof(e),
			  ((uintptr_t)va + off) / psz * sizeof(e)) != sizeof(e))
			break;
		e &= (1ULL << 55) - 1;
		if (!off || e != prev + 1)
			runs++;
		prev = e;
	}
	close(fd);
	return runs;
}

/*
 * A populated buffer of @size bytes, aligned to THP_SIZE, with or without
 * transparent huge pages.
 */
static void *buf_alloc(size_t size, int kind)
{
	char *p, *a;

	p = mmap(NULL, size + THP_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + THP_SIZE - 1) & ~(THP_SIZE - 1));
	if (a != p)
		munmap(p, a - p);
	munmap(a + size, p + THP_SIZE - a);
	madvise(a, size, kind ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
	for (size_t off = 0; off < size; off += 4096)
		a[off] = off >> 12;
	return a;
}

static int measure(const struct mapper *mp, struct meas *m, void *buf,
		   uint64_t iova, size_t size, unsigned int shift)
{
	struct counts a, b, c;
	double t0, t1, t2;
	int rc = 0;

	m->tces = size >> shift;
	for (int r = 0; r != NR_REPS && !rc; r++) {
		rc = read_counts(&a);
		t0 = now_ms();
		if (!rc)
			rc = mp->map(mp, buf, iova, size);
		t1 = now_ms();
		if (!rc)
			rc = read_counts(&b);
		if (rc)
			break;
		t1 = t1 - t0;
		t0 = now_ms();
		rc = mp->unmap(mp, iova, size);
		t2 = now_ms();
		if (!rc)
			rc = read_counts(&c);
		if (rc)
			break;
		m->map_ms[r] = t1;
		m->unmap_ms[r] = t2 - t0;
		m->map_hc[r] = hcalls(&a, &b);
		m->unmap_hc[r] = hcalls(&b, &c);
	}
	m->rc = rc;
	m->done = !rc;
	return rc;
}

static int group_of(const char *bdf, char *path, size_t len)
{
	char link[PATH_MAX], sys[PATH_MAX];
	ssize_t n;

	snprintf(sys, sizeof(sys), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(sys, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	snprintf(path, len, "/dev/vfio/%s", basename(link));
	return 0;
}

/* Every size and kind of buffer in window @w through @mp */
static void measure_window(int path, int w, const struct mapper *mp,
			   int legacy_fd)
{
	for (int k = 0; k != NR_KINDS; k++) {
		for (int s = 0; s != NR_SIZES; s++) {
			struct meas *m = &table[path][w][k][s];
			struct vfio_iommu_spapr_register_memory reg = {
				.argsz = sizeof(reg), .size = sizes[s],
			};
			void *buf;
			double t0;

			if (!win.have[w] || sizes[s] > win.size[w]) {
				m->rc = -ENOSPC;
				continue;
			}
			buf = buf_alloc(sizes[s], k);
			if (!buf) {
				m->rc = -ENOMEM;
				continue;
			}
			m->thp_kb = thp_kb(buf);
			m->runs = count_runs(buf, sizes[s]);
			if (legacy_fd >= 0) {
				reg.vaddr = (uintptr_t)buf;
				t0 = now_ms();
				if (ioctl(legacy_fd,
					  VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
					  &reg)) {
					m->rc = -errno;
					munmap(buf, sizes[s]);
					continue;
				}
				m->prereg_ms = now_ms() - t0;
			}
			measure(mp, m, buf, win.start[w], sizes[s],
				win.shift[w]);
			if (legacy_fd >= 0)
				ioctl(legacy_fd,
				      VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &reg);
			munmap(buf, sizes[s]);
		}
	}
}

/* The device cdev bound to iommufd: the windows, then the measurements */
static int run_iommufd(const char *bdf)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct mapper mp = { .map = ioas_map, .unmap = ioas_unmap, .fd = -1 };
	struct iommu_hw_info_spapr_tce info = {};
	struct iommu_hw_info get = {
		.size = sizeof(get), .data_len = sizeof(info),
		.data_uptr = (uintptr_t)&info,
	};
	struct iommu_hwpt_spapr_tce data = { .num_windows = 2 };
	struct iommu_hwpt_alloc halloc = {
		.size = sizeof(halloc),
		.data_type = IOMMU_HWPT_DATA_SPAPR_TCE,
		.data_len = sizeof(data), .data_uptr = (uintptr_t)&data,
	};
	char path[PATH_MAX], cdev[PATH_MAX] = "";
	struct dirent *d;
	int dev_fd = -1, rc = -1;
	DIR *dp;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dp = opendir(path);
	while (dp && (d = readdir(dp)))
		if (!strncmp(d->d_name, "vfio", 4))
			snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s",
				 d->d_name);
	if (dp)
		closedir(dp);
	if (!cdev[0]) {
		printf("# tce_bench: no VFIO device cdev\n");
		return -1;
	}

	mp.fd = open("/dev/iommu", O_RDWR);
	dev_fd = open(cdev, O_RDWR);
	bind.iommufd = mp.fd;
	if (mp.fd < 0 || dev_fd < 0 ||
	    ioctl(dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(mp.fd, IOMMU_IOAS_ALLOC, &alloc)) {
		printf("# tce_bench: iommufd setup: %s\n", strerror(errno));
		goto out;
	}
	get.dev_id = bind.out_devid;
	if (ioctl(mp.fd, IOMMU_GET_HW_INFO, &get) ||
	    get.out_data_type != IOMMU_HW_INFO_TYPE_SPAPR_TCE) {
		printf("# tce_bench: IOMMU_GET_HW_INFO: %s\n", strerror(errno));
		goto out;
	}
	win.start[0] = info.dma32_window_start;
	win.size[0] = info.dma32_window_size;
	win.shift[0] = 12;
	win.have[0] = !!(info.pgsizes & 0x1000);
	/*
	 * 64K TCEs where offered, else the largest size below, and none
	 * larger than a CPU page: the buffers are not all huge pages, and
	 * larger TCEs need IOMMU_HWPT_ALLOC_LARGE_PAGES and contiguous memory
	 */
	for (unsigned int shift = 16; shift >= 12; shift--) {
		if ((info.flags & IOMMU_HW_INFO_SPAPR_TCE_DDW) &&
		    (info.ddw_pgsizes & (1ULL << shift)) &&
		    (1L << shift) <= sysconf(_SC_PAGESIZE) &&
		    (DDW_SIZE >> shift) <= info.ddw_max_tces) {
			win.start[1] = info.ddw_bus_offset;
			win.size[1] = DDW_SIZE;
			win.shift[1] = shift;
			win.have[1] = 1;
			break;
		}
	}
	printf("# tce_bench: default window %#llx..+%#llx 4K TCEs; DDW %s %#llx..+%#llx %uK TCEs (ddw_pgsizes %#llx)\n",
	       (unsigned long long)win.start[0],
	       (unsigned long long)win.size[0],
	       win.have[1] ? "at" : "none",
	       (unsigned long long)win.start[1],
	       (unsigned long long)win.size[1], (1U << win.shift[1]) >> 10,
	       (unsigned long long)info.ddw_pgsizes);

	mp.ioas_id = alloc.out_ioas_id;
	attach.pt_id = mp.ioas_id;
	if (ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		printf("# tce_bench: attach: %s\n", strerror(errno));
		goto out;
	}
	measure_window(1, 0, &mp, -1);

	if (win.have[1]) {
		data.windows[0].bus_offset = win.start[0];
		data.windows[0].size = win.size[0];
		data.windows[0].page_shift = 12;
		data.windows[1].bus_offset = win.start[1];
		data.windows[1].size = win.size[1];
		data.windows[1].page_shift = win.shift[1];
		halloc.dev_id = bind.out_devid;
		halloc.pt_id = mp.ioas_id;
		attach.pt_id = 0;
		if (ioctl(mp.fd, IOMMU_HWPT_ALLOC, &halloc) ||
		    (attach.pt_id = halloc.out_hwpt_id,
		     ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))) {
			printf("# tce_bench: DDW HWPT: %s\n", strerror(errno));
			goto out;
		}
		measure_window(1, 1, &mp, -1);
	}
	rc = 0;
out:
	if (dev_fd >= 0)
		close(dev_fd);
	if (mp.fd >= 0)
		close(mp.fd);
	return rc;
}

/* The legacy v2 container on the device's group, the same windows */
static int run_legacy(const char *bdf)
{
	struct vfio_iommu_spapr_tce_create create = {
		.argsz = sizeof(create), .levels = 1,
	};
	struct mapper mp = { .map = legacy_map, .unmap = legacy_unmap };
	char group[PATH_MAX];
	int container, grp;

	container = open("/dev/vfio/vfio", O_RDWR);
	if (group_of(bdf, group, sizeof(group)))
		return -1;
	grp = open(group, O_RDWR);
	if (container < 0 || grp < 0 ||
	    ioctl(grp, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU)) {
		printf("# tce_bench: legacy v2 container setup: %s\n",
		       strerror(errno));
		return -1;
	}
	mp.fd = container;
	measure_window(0, 0, &mp, container);

	if (win.have[1]) {
		create.page_shift = win.shift[1];
		create.window_size = win.size[1];
		if (ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &create)) {
			printf("# tce_bench: legacy DDW: %s\n", strerror(errno));
		} else if (create.start_addr != win.start[1]) {
			printf("# tce_bench: legacy DDW at %#llx, iommufd's at %#llx\n",
			       (unsigned long long)create.start_addr,
			       (unsigned long long)win.start[1]);
		} else {
			measure_window(0, 1, &mp, container);
		}
	}
	close(grp);
	close(container);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of NR_REPS figures */
static double med(const double *v, double *lo, double *hi)
{
	double s[NR_REPS];

	memcpy(s, v, sizeof(s));
	qsort(s, NR_REPS, sizeof(s[0]), cmp_double);
	if (lo)
		*lo = s[0];
	if (hi)
		*hi = s[NR_REPS - 1];
	return s[NR_REPS / 2];
}

static unsigned long long max_hc(const unsigned long long *v)
{
	unsigned long long m = 0;

	for (int r = 0; r != NR_REPS; r++)
		if (v[r] > m)
			m = v[r];
	return m;
}

static int test_num;

static void result(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(int ok, const char *name, const char *fmt, ...)
{
	char why[256] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	printf("%sok %d %s%s%s\n", ok ? "" : "not ", ++test_num, name,
	       why[0] ? " # " : "", why);
}

static void report(void)
{
	int goal_hc = 1, goal_ratio = 1, have_ratio = 0;
	int grows = 0, falls = 0;
	char name[128];

	printf("# tce_bench: times in ms, median of %d (min..max); hcalls per TCE of the median repetition\n",
	       NR_REPS);
	printf("# tce_bench: %-7s %-5s %4s %6s %5s | %-24s %-24s %6s %6s | %-24s %-24s %6s %6s | %5s\n",
	       "window", "buf", "size", "TCEs", "THP%", "legacy map",
	       "legacy unmap", "hc/TCE", "hc/TCE", "iommufd map",
	       "iommufd unmap", "hc/TCE", "hc/TCE", "ratio");
	for (int w = 0; w != NR_WINDOWS; w++)
	for (int k = 0; k != NR_KINDS; k++)
	for (int s = 0; s != NR_SIZES; s++) {
		struct meas *l = &table[0][w][k][s], *i = &table[1][w][k][s];
		double v[NR_PATHS][2], lo[NR_PATHS][2], hi[NR_PATHS][2];
		char cell[NR_PATHS][2][32], hc[NR_PATHS][2][16], ratio[16];
		struct meas *m[NR_PATHS] = { l, i };

		for (int p = 0; p != NR_PATHS; p++) {
			for (int op = 0; op != 2; op++) {
				const double *t = op ? m[p]->unmap_ms :
						       m[p]->map_ms;
				const unsigned long long *h =
					op ? m[p]->unmap_hc : m[p]->map_hc;

				if (!m[p]->done) {
					snprintf(cell[p][op], 32, "-");
					snprintf(hc[p][op], 16, "-");
					continue;
				}
				v[p][op] = med(t, &lo[p][op], &hi[p][op]);
				snprintf(cell[p][op], 32, "%.1f (%.1f..%.1f)",
					 v[p][op], lo[p][op], hi[p][op]);
				if (have_hcalls)
					snprintf(hc[p][op], 16, "%.4f",
						 (double)h[NR_REPS / 2] /
						 m[p]->tces);
				else
					snprintf(hc[p][op], 16, "-");
			}
		}
		snprintf(ratio, sizeof(ratio), "-");
		if (l->done && i->done) {
			double r = (v[1][0] + v[1][1]) / (v[0][0] + v[0][1]);

			snprintf(ratio, sizeof(ratio), "%.3f", r);
			if (s >= 1) {
				have_ratio = 1;
				if (r > 0.1)
					goal_ratio = 0;
			}
		}
		printf("# tce_bench: %-7s %-5s %4s %6lu %5.0f | %-24s %-24s %6s %6s | %-24s %-24s %6s %6s | %5s\n",
		       win_name[w], kind_name[k], size_name[s],
		       i->tces ? i->tces : l->tces,
		       (i->done ? i->thp_kb : l->thp_kb) * 1024.0 * 100 /
		       sizes[s], cell[0][0], cell[0][1], hc[0][0], hc[0][1],
		       cell[1][0], cell[1][1], hc[1][0], hc[1][1], ratio);
		for (int op = 0; op != 2 && i->done; op++)
			if ((double)max_hc(op ? i->unmap_hc : i->map_hc) /
			    i->tces > 0.0025)
				goal_hc = 0;
	}
	for (int w = 0; w != NR_WINDOWS; w++)
	for (int k = 0; k != NR_KINDS; k++) {
		if (table[0][w][k][0].done && table[0][w][k][0].prereg_ms)
			printf("# tce_bench: legacy preregistration %s %s: %.1f ms (64M) %.1f ms (256M) %.1f ms (1G)\n",
			       win_name[w], kind_name[k],
			       table[0][w][k][0].prereg_ms,
			       table[0][w][k][1].prereg_ms,
			       table[0][w][k][2].prereg_ms);
		for (int p = 0; p != NR_PATHS; p++) {
			struct meas *a = &table[p][w][k][0];
			struct meas *b = &table[p][w][k][NR_SIZES - 1];
			double ta, tb, r;

			if (!a->done || !b->done)
				continue;
			ta = (med(a->map_ms, NULL, NULL) +
			      med(a->unmap_ms, NULL, NULL)) / a->tces;
			tb = (med(b->map_ms, NULL, NULL) +
			      med(b->unmap_ms, NULL, NULL)) / b->tces;
			r = tb / ta;
			printf("# tce_bench: scaling %s %s %s: map+unmap per TCE %.3f us (64M), %.3f us (1G), ratio 1G/64M %.2f\n",
			       path_name[p], win_name[w], kind_name[k],
			       ta * 1e3, tb * 1e3, r);
			if (p == 1 && r > 1.5)
				grows = 1;
			if (p == 1 && r < 1 / 1.5)
				falls = 1;
		}
	}
	printf("# tce_bench: goal iommufd hcalls per TCE <= 0.0025 (map, unmap; both kinds, both windows): %s\n",
	       !have_hcalls ? "not measured (no hypercalls)" :
	       goal_hc ? "met" : "NOT met");
	printf("# tce_bench: goal iommufd/legacy map+unmap time <= 0.1 (256M, 1G): %s\n",
	       !have_ratio ? "not measured" : goal_ratio ? "met" : "NOT met");
	printf("# tce_bench: goal iommufd per-TCE time within 1.5x from 64M to 1G: %s\n",
	       !grows && !falls ? "met" :
	       grows ? "NOT met (per-TCE time grows with the size)" :
	       "NOT met (per-TCE time falls with the size: fixed costs of a call)");

	/* The results: measurements, then the hcall limits */
	for (int p = 0; p != NR_PATHS; p++)
	for (int w = 0; w != NR_WINDOWS; w++)
	for (int k = 0; k != NR_KINDS; k++)
	for (int s = 0; s != NR_SIZES; s++) {
		struct meas *m = &table[p][w][k][s];

		snprintf(name, sizeof(name), "%s.%s.%s.%s", path_name[p],
			 win_name[w], kind_name[k], size_name[s]);
		result(m->done, name, "%s", m->done ? "" : strerror(-m->rc));
	}
	for (int w = 0; w != NR_WINDOWS; w++)
	for (int k = 0; k != NR_KINDS; k++)
	for (int s = 0; s != NR_SIZES; s++) {
		struct meas *m = &table[1][w][k][s];

		for (int op = 0; op != 2; op++) {
			unsigned long long limit, got;

			snprintf(name, sizeof(name), "iommufd.%s.%s.%s.%s_hcalls",
				 win_name[w], kind_name[k], size_name[s],
				 op ? "unmap" : "map");
			if (!m->done) {
				result(0, name, "not measured");
				continue;
			}
			if (!have_hcalls) {
				result(1, name,
				       "SKIP powernv makes no TCE hypercalls");
				continue;
			}
			limit = (m->tces + TCES_PER_HCALL - 1) /
				TCES_PER_HCALL + HCALL_SLACK;
			if (op)
				limit += (m->runs + IOMMUFD_BATCH - 1) /
					 IOMMUFD_BATCH;
			got = max_hc(op ? m->unmap_hc : m->map_hc);
			result(got <= limit, name,
			       "%llu hcalls for %lu TCEs in %lu runs, limit %llu",
			       got, m->tces, m->runs, limit);
		}
	}
}

int main(void)
{
	const char *devs = getenv("IOMMUFD_TEST_PCI_DEVICES");
	char bdf[64] = "";
	struct counts c;

	printf("KTAP version 1\n1..%d\n", NR_TESTS);
	if (devs)
		sscanf(devs, "%63s", bdf);
	if (!bdf[0]) {
		printf("# tce_bench: no VFIO test device\n");
		for (test_num = 1; test_num <= NR_TESTS; test_num++)
			printf("ok %d tce_bench # SKIP no VFIO test device\n",
			       test_num);
		return 0;
	}
	if (!access("/sys/firmware/opal", F_OK)) {
		/* powernv: the kernel writes the TCEs, times only */
		have_hcalls = 0;
		printf("# tce_bench: powernv: no TCE hypercalls, times only\n");
	} else if (read_counts(&c)) {
		printf("# tce_bench: no hcall_inst in debugfs (HCALL_STATS)\n");
		for (test_num = 1; test_num <= NR_TESTS; test_num++)
			printf("ok %d tce_bench # SKIP no HCALL_STATS\n",
			       test_num);
		return 0;
	}
	printf("# tce_bench: device %s, page size %ld, %d repetitions\n", bdf,
	       sysconf(_SC_PAGESIZE), NR_REPS);

	/* iommufd first: its hw_info gives the windows both paths use */
	run_iommufd(bdf);
	run_legacy(bdf);
	report();
	return 0;
}
