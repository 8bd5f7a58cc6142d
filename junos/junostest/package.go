package junostest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hitless/hitless/versionpath"
)

// PackagePlatform is the platform token of vSRX 3.0 install packages
// ("junos-install-vsrx3-x86-64-<version>.tgz"); the simulator installs
// only packages built for it.
const PackagePlatform = "vsrx3"

// PackageSize is the size in bytes of the files WritePackage writes. Real
// vSRX packages are several hundred megabytes; 64 KiB keeps tests fast while
// still spanning many SSH packets.
const PackageSize = 64 << 10

// Simulated package layout: a header line naming platform and version,
// filler lines, and a trailer line repeating them. A file without its
// trailer (e.g. cut short) fails signature verification.
const (
	packageHeader  = "junostest install package "
	packageTrailer = "end of junostest install package "
)

var platformRe = regexp.MustCompile(`^[a-z0-9]{1,16}$`)

// PackageName returns the file name WritePackageFor uses:
// "junos-install-<platform>-x86-64-<version>.tgz", the naming of vSRX 3.0
// upgrade packages.
func PackageName(platform, version string) string {
	return "junos-install-" + platform + "-x86-64-" + version + ".tgz"
}

// WritePackage writes a simulated vSRX 3.0 install package for version into
// dir, named PackageName(PackagePlatform, version), and returns its path.
// Upload it to /var/tmp of a node (SCP) and install it with `request
// system software add /var/tmp/<name> no-copy`; the node then reboots onto
// version.
func WritePackage(dir, version string) (string, error) {
	return WritePackageFor(dir, PackagePlatform, version)
}

// WritePackageFor is WritePackage for another platform, e.g. "srx5000": the
// simulator refuses such a package as not valid for the vsrx. The file is
// PackageSize bytes: a first line naming platform and version, a last line
// repeating them, deterministic filler in between. Errors: a version that is
// not a Junos version, a platform that is not 1-16 of [a-z0-9], or a write
// failure.
func WritePackageFor(dir, platform, version string) (string, error) {
	if _, err := versionpath.ParseJunos(version); err != nil {
		return "", fmt.Errorf("junostest: WritePackage: %q is not a Junos version: %w", version, err)
	}
	if !platformRe.MatchString(platform) {
		return "", fmt.Errorf("junostest: WritePackage: platform %q is not 1-16 of [a-z0-9]", platform)
	}
	path := filepath.Join(dir, PackageName(platform, version))
	if err := os.WriteFile(path, packageBytes(platform, version), 0o644); err != nil {
		return "", fmt.Errorf("junostest: WritePackage: %w", err)
	}
	return path, nil
}

func packageBytes(platform, version string) []byte {
	id := platform + " " + version + "\n"
	head, tail := packageHeader+id, packageTrailer+id
	var b bytes.Buffer
	b.Grow(PackageSize)
	b.WriteString(head)
	sum := sha256.Sum256([]byte(id))
	for b.Len()+len(tail) < PackageSize {
		line := hex.EncodeToString(sum[:]) + "\n" // 65 bytes
		if n := PackageSize - len(tail) - b.Len(); n < len(line) {
			line = strings.Repeat("0", n-1) + "\n"
		}
		b.WriteString(line)
		sum = sha256.Sum256(sum[:])
	}
	b.WriteString(tail)
	return b.Bytes()
}

// readPackage returns the platform and version of a complete simulated
// package, or ok=false (wrong header, missing or mismatched trailer, bad
// version).
func readPackage(data []byte) (platform, version string, ok bool) {
	first, _, found := bytes.Cut(data, []byte("\n"))
	if !found || !bytes.HasPrefix(first, []byte(packageHeader)) {
		return "", "", false
	}
	platform, version, found = strings.Cut(string(first[len(packageHeader):]), " ")
	if !found || !platformRe.MatchString(platform) {
		return "", "", false
	}
	if _, err := versionpath.ParseJunos(version); err != nil {
		return "", "", false
	}
	if !bytes.HasSuffix(data, []byte(packageTrailer+platform+" "+version+"\n")) {
		return "", "", false
	}
	return platform, version, true
}
