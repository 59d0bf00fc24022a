/*
 * sbat.c - the image's SBAT section, for shim.
 *
 * shim (the first-stage loader Linux distributions sign with Microsoft's
 * key) refuses, since 15.3, to start a second stage without a .sbat
 * section: CSV lines naming each component and its "generation".  When
 * a security bug is found, a revocation raises the minimum generation,
 * and every image older than that is refused at once, without
 * revoking the keys that signed it (shim's SBAT.md).
 *
 * Line 1 says which SBAT format this is; line 2 is this project.  Bump
 * our generation (the 1 after "bootx64") when a fix must make older
 * signed images unbootable.  The array holds no trailing NUL: the
 * section is exactly the CSV text.  `make` checks the built image has it.
 */
#define SBAT_CSV \
	"sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n" \
	"bootx64,1,BOOTX64.EFI project,bootx64,1,docs/secure-boot.md\n"

__attribute__((section(".sbat"), used))
static const char sbat[sizeof(SBAT_CSV) - 1] = SBAT_CSV;
