/* replay.c - runs a libFuzzer target over every file of its corpus folder,
 * plus a deterministic stream of random inputs, without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!buf)
		return -1;
	/* Copy into an exact-size allocation so ASan sees over-reads. */
	uint8_t *exact = malloc(n ? n : 1);
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned files = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (!d) {
			fprintf(stderr, "replay: cannot open corpus %s\n", argv[i]);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			if (run_file(p) == 0)
				files++;
		}
		closedir(d);
	}
	/* Random inputs from a fixed seed: cheap extra coverage of error paths. */
	uint64_t s = 0x9e3779b97f4a7c15ull;
	uint8_t buf[512];
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(s % sizeof(buf));
		for (size_t j = 0; j < n; j++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			buf[j] = (uint8_t)s;
		}
		uint8_t *exact = malloc(n ? n : 1);
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
		s = s * 6364136223846793005ull + 1442695040888963407ull;
	}
	printf("replayed %u corpus files and 20000 random inputs\n", files);
	return files ? 0 : 1;
}
