// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hypercall cost of DMA mapping on pseries, counted, not timed.
 *
 * Maps and unmaps a 64 MiB buffer for the first VFIO test device
 * (IOMMUFD_TEST_PCI_DEVICES, set by /init) and counts the TCE hypercalls
 * each operation made, from the HCALL_STATS counters in debugfs
 * (hcall_inst/cpuN: "opcode calls tb [purr]"), summed over all CPUs.
 * The figures are printed as KTAP diagnostics ("# tce_bench: ..."); a
 * measurement is "ok" when its operations succeeded and the counters
 * could be read, and it is never judged by its numbers.
 *
 * Paths measured, one after the other on the same device and buffer:
 *  - the legacy VFIO sPAPR TCE v2 container, in the default 32-bit window
 *    (4K TCEs) and in a 64-bit DDW (64K TCEs);
 *  - the VFIO device cdev bound to iommufd, an IOAS with the automatic
 *    domain (the default window, 4K TCEs), once with the buffer as it
 *    comes (transparent huge pages make it physically contiguous in 2M
 *    runs) and once with MADV_NOHUGEPAGE (contiguous per base page);
 *    then a HWPT with the same 1 GiB DDW of 64K TCEs as the legacy one
 *    (IOMMU_HWPT_DATA_SPAPR_TCE), replacing the automatic domain.
 * Then the legacy/iommufd ratio of hcalls per TCE, per operation.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#define BUF_SIZE (64UL << 20)
#define SZ_1G 0x40000000ULL
#define NR_TESTS 10

enum { H_GET_TCE, H_PUT_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, NR_HC };
static const unsigned long hc_opcode[NR_HC] = { 0x1c, 0x20, 0x138, 0x13c };
static const char *const hc_name[NR_HC] = {
	"H_GET_TCE", "H_PUT_TCE", "H_STUFF_TCE", "H_PUT_TCE_INDIRECT"
};

struct counts {
	unsigned long long n[NR_HC];
};

static int read_counts(struct counts *c)
{
	const char *dir = "/sys/kernel/debug/hcall_inst";
	struct dirent *d;
	DIR *dp;

	memset(c, 0, sizeof(*c));
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

static int test_num;

/* hcalls per TCE of each successful measurement, for the ratios */
static struct {
	char name[64];
	double per_tce;
} results[NR_TESTS];
static int nr_results;

/* Prints one measurement: the hcalls between @a and @b for @tces TCEs. */
static void report(const char *name, const struct counts *a,
		   const struct counts *b, unsigned long tces, int rc)
{
	unsigned long long total = 0;
	char buf[512];
	int i, len;

	test_num++;
	if (rc) {
		printf("not ok %d %s # %s\n", test_num, name, strerror(-rc));
		return;
	}
	len = snprintf(buf, sizeof(buf), "# tce_bench: %-28s TCEs %6lu:", name,
		       tces);
	for (i = 0; i != NR_HC; i++) {
		unsigned long long d = b->n[i] - a->n[i];

		total += d;
		len += snprintf(buf + len, sizeof(buf) - len, " %s %llu",
				hc_name[i], d);
	}
	printf("%s total %llu hcalls/TCE %.4f\n", buf, total,
	       tces ? (double)total / tces : 0.0);
	/* TCEs were written without a hypercall: the counters do not count */
	if (tces && !total) {
		printf("not ok %d %s # no TCE hypercall counted\n", test_num,
		       name);
		return;
	}
	if (nr_results < NR_TESTS && tces) {
		snprintf(results[nr_results].name,
			 sizeof(results[nr_results].name), "%s", name);
		results[nr_results++].per_tce = (double)total / tces;
	}
	printf("ok %d %s\n", test_num, name);
}

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

/* Maps and unmaps the buffer at @iova, reporting both under @what. */
static void measure(const struct mapper *mp, void *buf, uint64_t iova,
		    unsigned int shift, const char *what)
{
	struct counts a = {}, b = {}, c = {};
	char name[64];
	int rc;

	rc = read_counts(&a);
	if (!rc)
		rc = mp->map(mp, buf, iova, BUF_SIZE);
	if (!rc)
		rc = read_counts(&b);
	snprintf(name, sizeof(name), "%s.map", what);
	report(name, &a, &b, BUF_SIZE >> shift, rc);
	if (rc) {
		test_num++;
		printf("not ok %d %s.unmap # map failed\n", test_num, what);
		return;
	}
	rc = mp->unmap(mp, iova, BUF_SIZE);
	if (!rc)
		rc = read_counts(&c);
	snprintf(name, sizeof(name), "%s.unmap", what);
	report(name, &b, &c, BUF_SIZE >> shift, rc);
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

static double per_tce(const char *name)
{
	for (int i = 0; i != nr_results; i++)
		if (!strcmp(results[i].name, name))
			return results[i].per_tce;
	return -1;
}

/* "legacy/iommufd" hcalls per TCE for the same operation */
static void print_ratio(const char *legacy, const char *iommufd)
{
	double l = per_tce(legacy), i = per_tce(iommufd);

	if (l < 0 || i <= 0)
		return;
	printf("# tce_bench: ratio %s / %s: %.1fx fewer hcalls per TCE\n",
	       legacy, iommufd, l / i);
}

static void fail_pair(const char *what, const char *why)
{
	test_num++;
	printf("not ok %d %s.map # %s\n", test_num, what, why);
	test_num++;
	printf("not ok %d %s.unmap # %s\n", test_num, what, why);
}

struct ddw {
	uint64_t bus_offset;	/* 0 if there is no DDW */
	__u32 hwpt_id;
};

/* A HWPT on @ioas_id with the default window and a 1 GiB DDW of 64K TCEs */
static struct ddw ddw_hwpt(int fd, __u32 dev_id, __u32 ioas_id)
{
	struct iommu_hw_info_spapr_tce info = {};
	struct iommu_hw_info get = {
		.size = sizeof(get), .dev_id = dev_id,
		.data_len = sizeof(info), .data_uptr = (uintptr_t)&info,
	};
	struct iommu_hwpt_spapr_tce data = { .num_windows = 2 };
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc), .dev_id = dev_id, .pt_id = ioas_id,
		.data_type = IOMMU_HWPT_DATA_SPAPR_TCE,
		.data_len = sizeof(data), .data_uptr = (uintptr_t)&data,
	};
	struct ddw ddw = {};

	if (ioctl(fd, IOMMU_GET_HW_INFO, &get) ||
	    get.out_data_type != IOMMU_HW_INFO_TYPE_SPAPR_TCE ||
	    !(info.flags & IOMMU_HW_INFO_SPAPR_TCE_DDW) ||
	    !(info.ddw_pgsizes & 0x10000))
		return ddw;
	data.windows[0].bus_offset = info.dma32_window_start;
	data.windows[0].size = info.dma32_window_size;
	data.windows[0].page_shift = 12;
	data.windows[1].bus_offset = info.ddw_bus_offset;
	data.windows[1].size = SZ_1G;
	data.windows[1].page_shift = 16;
	if (ioctl(fd, IOMMU_HWPT_ALLOC, &alloc))
		return ddw;
	ddw.bus_offset = info.ddw_bus_offset;
	ddw.hwpt_id = alloc.out_hwpt_id;
	return ddw;
}

/* The device cdev bound to iommufd, attached to an IOAS */
static void measure_iommufd(const char *bdf, void *buf, void *buf_nothp)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct mapper mp = { .map = ioas_map, .unmap = ioas_unmap };
	char path[PATH_MAX], cdev[PATH_MAX] = "";
	struct ddw ddw;
	struct dirent *d;
	int dev_fd = -1;
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
		for (int i = 0; i != 6; i++)
			printf("ok %d iommufd # SKIP no VFIO device cdev\n",
			       ++test_num);
		return;
	}

	mp.fd = open("/dev/iommu", O_RDWR);
	dev_fd = open(cdev, O_RDWR);
	bind.iommufd = mp.fd;
	if (mp.fd < 0 || dev_fd < 0 ||
	    ioctl(dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(mp.fd, IOMMU_IOAS_ALLOC, &alloc)) {
		fail_pair("iommufd.default_window_4k", strerror(errno));
		fail_pair("iommufd.default_window_4k_nothp", strerror(errno));
		fail_pair("iommufd.ddw_64k", strerror(errno));
		goto out;
	}
	mp.ioas_id = alloc.out_ioas_id;
	attach.pt_id = mp.ioas_id;
	if (ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		fail_pair("iommufd.default_window_4k", strerror(errno));
		fail_pair("iommufd.default_window_4k_nothp", strerror(errno));
		fail_pair("iommufd.ddw_64k", strerror(errno));
		goto out;
	}
	measure(&mp, buf, 0, 12, "iommufd.default_window_4k");
	if (buf_nothp == MAP_FAILED)
		fail_pair("iommufd.default_window_4k_nothp", "mmap failed");
	else
		measure(&mp, buf_nothp, 0, 12,
			"iommufd.default_window_4k_nothp");

	/* The same DDW as the legacy one, through IOMMU_HWPT_DATA_SPAPR_TCE */
	ddw = ddw_hwpt(mp.fd, bind.out_devid, mp.ioas_id);
	attach.pt_id = ddw.hwpt_id;
	if (!ddw.bus_offset ||
	    ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		fail_pair("iommufd.ddw_64k", ddw.bus_offset ?
			  strerror(errno) : "no DDW");
	else
		measure(&mp, buf, ddw.bus_offset, 16, "iommufd.ddw_64k");
out:
	if (dev_fd >= 0)
		close(dev_fd);
	if (mp.fd >= 0)
		close(mp.fd);
}

int main(void)
{
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create create = {
		.argsz = sizeof(create), .page_shift = 16,
		.window_size = SZ_1G, .levels = 1,
	};
	const char *devs = getenv("IOMMUFD_TEST_PCI_DEVICES");
	char bdf[64] = "", group[PATH_MAX];
	struct mapper legacy = { .map = legacy_map, .unmap = legacy_unmap };
	int container, grp;
	struct counts c;
	void *buf, *buf_nothp;

	printf("KTAP version 1\n1..%d\n", NR_TESTS);
	if (devs)
		sscanf(devs, "%63s", bdf);
	if (!bdf[0] || group_of(bdf, group, sizeof(group))) {
		printf("# tce_bench: no VFIO test device\n");
		for (test_num = 1; test_num <= NR_TESTS; test_num++)
			printf("ok %d tce_bench # SKIP no VFIO test device\n",
			       test_num);
		return 0;
	}
	if (read_counts(&c)) {
		printf("# tce_bench: no hcall_inst in debugfs (HCALL_STATS)\n");
		for (test_num = 1; test_num <= NR_TESTS; test_num++)
			printf("ok %d tce_bench # SKIP no HCALL_STATS\n",
			       test_num);
		return 0;
	}
	printf("# tce_bench: device %s, buffer %lu MiB\n", bdf, BUF_SIZE >> 20);

	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	container = open("/dev/vfio/vfio", O_RDWR);
	grp = open(group, O_RDWR);
	if (buf == MAP_FAILED || container < 0 || grp < 0 ||
	    ioctl(grp, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU)) {
		printf("# tce_bench: legacy v2 container setup: %s\n",
		       strerror(errno));
		for (test_num = 1; test_num <= NR_TESTS; test_num++)
			printf("not ok %d legacy_v2 # setup failed\n", test_num);
		return 1;
	}
	legacy.fd = container;
	reg.vaddr = (uintptr_t)buf;
	reg.size = BUF_SIZE;
	if (ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg))
		printf("# tce_bench: preregistration: %s\n", strerror(errno));

	/* Create the default window first, so that its setup is not counted */
	legacy_map(&legacy, buf, 0, 4096);
	legacy_unmap(&legacy, 0, 4096);
	measure(&legacy, buf, 0, 12, "legacy_v2.default_window_4k");

	if (ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &create))
		fail_pair("legacy_v2.ddw_64k", strerror(errno));
	else
		measure(&legacy, buf, create.start_addr, 16,
			"legacy_v2.ddw_64k");
	close(grp);
	close(container);

	buf_nothp = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf_nothp != MAP_FAILED) {
		madvise(buf_nothp, BUF_SIZE, MADV_NOHUGEPAGE);
		memset(buf_nothp, 1, BUF_SIZE);
	}
	measure_iommufd(bdf, buf, buf_nothp);

	for (int i = 0; i != 2; i++) {
		const char *op = i ? "unmap" : "map";
		char l[64], a[64], b[64];

		snprintf(l, sizeof(l), "legacy_v2.default_window_4k.%s", op);
		snprintf(a, sizeof(a), "iommufd.default_window_4k.%s", op);
		snprintf(b, sizeof(b), "iommufd.default_window_4k_nothp.%s",
			 op);
		print_ratio(l, a);
		print_ratio(l, b);
		snprintf(l, sizeof(l), "legacy_v2.ddw_64k.%s", op);
		snprintf(a, sizeof(a), "iommufd.ddw_64k.%s", op);
		print_ratio(l, a);
	}
	return 0;
}
