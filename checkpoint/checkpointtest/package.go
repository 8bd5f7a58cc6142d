package checkpointtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hitless/hitless/versionpath"
)

// Package kinds (Package.Kind).
const (
	// KindMajor is a major version upgrade package (CPUSE "Fresh Install
	// and Upgrade" image, or a Blink image when Take > 0).
	KindMajor = "major"
	// KindJumbo is a Jumbo Hotfix Accumulator package for the release the
	// member already runs.
	KindJumbo = "jumbo"
)

// PackageSize is the size in bytes of every file WritePackage writes. Real
// packages are gigabytes (major) or hundreds of megabytes (Jumbo); 64 KiB
// keeps tests fast while still spanning many SSH packets.
const PackageSize = 64 << 10

// Simulated package layout: a header line, a line with the package's facts,
// filler, and a trailer line. A file without its trailer (cut short) is not
// a package: its import fails.
const (
	packageHeader  = "checkpointtest CPUSE package\n"
	packageTrailer = "end of checkpointtest CPUSE package\n"
)

// Package describes a simulated CPUSE package.
type Package struct {
	// Kind is KindMajor or KindJumbo.
	Kind string
	// Release is the release the package installs (KindMajor) or belongs to
	// (KindJumbo), in the versionpath.CheckPoint grammar, e.g. "R82",
	// "R81.20".
	Release string
	// Build is the software build a major package installs (digits, e.g.
	// "777"); "" means the simulator's build for Release (see BuildOf).
	// Ignored for KindJumbo.
	Build string
	// Take is the Jumbo Hotfix take: for KindJumbo the take it installs
	// (> 0); for KindMajor the take embedded in a Blink image (0: none).
	Take int
}

var (
	digitsRe    = regexp.MustCompile(`^\d{1,6}$`)
	packageLine = regexp.MustCompile(`^kind=(major|jumbo) release=(\S+) build=(\d{1,6}) take=(\d{1,6})$`)
)

// validate checks p and fills in its build.
func (p Package) validate() (Package, error) {
	var errs []string
	if p.Kind != KindMajor && p.Kind != KindJumbo {
		errs = append(errs, fmt.Sprintf("kind %q is neither %q nor %q", p.Kind, KindMajor, KindJumbo))
	}
	if _, err := (versionpath.CheckPoint{}).Parse(p.Release); err != nil {
		errs = append(errs, fmt.Sprintf("release %q: %v", p.Release, err))
	}
	if p.Build == "" {
		p.Build = BuildOf(p.Release)
	} else if !digitsRe.MatchString(p.Build) {
		errs = append(errs, fmt.Sprintf("build %q is not 1-6 digits", p.Build))
	}
	switch {
	case p.Take < 0 || p.Take > 999999:
		errs = append(errs, fmt.Sprintf("take %d is out of range 0..999999", p.Take))
	case p.Kind == KindJumbo && p.Take == 0:
		errs = append(errs, "a Jumbo package needs a take > 0")
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("checkpointtest: invalid package: %s", strings.Join(errs, "; "))
	}
	return p, nil
}

// FileName returns the file name WritePackage uses, modelled on the public
// Check Point download names:
//
//	KindMajor:            Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar
//	KindMajor with Take:  Blink_image_1.1_Check_Point_R82_T777_JHF_T60_SecurityGateway.tgz
//	KindJumbo:            Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T92_FULL.tgz
//
// The names match [A-Za-z0-9._-]+. FileName of an invalid Package is "".
func (p Package) FileName() string {
	p, err := p.validate()
	if err != nil {
		return ""
	}
	switch {
	case p.Kind == KindJumbo:
		return "Check_Point_" + strings.ReplaceAll(p.Release, ".", "_") + "_JUMBO_HF_MAIN_Bundle_T" + strconv.Itoa(p.Take) + "_FULL.tgz"
	case p.Take > 0:
		return "Blink_image_1.1_Check_Point_" + p.Release + "_T" + p.Build + "_JHF_T" + strconv.Itoa(p.Take) + "_SecurityGateway.tgz"
	default:
		return "Check_Point_" + p.Release + "_T" + p.Build + "_Fresh_Install_and_Upgrade.tar"
	}
}

// DisplayName is the CPUSE display name of the package, as the simulator's
// `show installer packages imported|installed` print it. Jumbo names follow
// the R82 lab listing ("R82 Jumbo Hotfix Accumulator Recommended Jumbo Take
// 91"); the major and Blink names are INVENTED (UNVERIFIED).
func (p Package) DisplayName() string {
	switch {
	case p.Kind == KindJumbo:
		return jumboDisplayName(p.Release, p.Take)
	case p.Take > 0:
		return "Blink image " + p.Release + " Security Gateway (Build " + p.Build + ", Jumbo Take " + strconv.Itoa(p.Take) + ")"
	default:
		return "Check Point " + p.Release + " Gaia Fresh Install and Upgrade (Build " + p.Build + ")"
	}
}

// jumboDisplayName is the CPUSE display name of a Jumbo take.
func jumboDisplayName(release string, take int) string {
	return release + " Jumbo Hotfix Accumulator Recommended Jumbo Take " + strconv.Itoa(take)
}

// WritePackage writes a simulated CPUSE package into dir, named
// p.FileName(), and returns its path. The file is PackageSize bytes. Upload
// it by SCP, then `installer import local <path>` on the member.
func WritePackage(dir string, p Package) (string, error) {
	p, err := p.validate()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, p.FileName())
	if err := os.WriteFile(path, packageBytes(p), 0o644); err != nil {
		return "", fmt.Errorf("checkpointtest: WritePackage: %w", err)
	}
	return path, nil
}

// packageBytes returns the content of a simulated package.
func packageBytes(p Package) []byte {
	facts := fmt.Sprintf("kind=%s release=%s build=%s take=%d\n", p.Kind, p.Release, p.Build, p.Take)
	var b bytes.Buffer
	b.Grow(PackageSize)
	b.WriteString(packageHeader)
	b.WriteString(facts)
	sum := sha256.Sum256([]byte(facts))
	for b.Len()+len(packageTrailer) < PackageSize {
		line := hex.EncodeToString(sum[:]) + "\n" // 65 bytes
		if n := PackageSize - len(packageTrailer) - b.Len(); n < len(line) {
			line = strings.Repeat("0", n-1) + "\n"
		}
		b.WriteString(line)
		sum = sha256.Sum256(sum[:])
	}
	b.WriteString(packageTrailer)
	return b.Bytes()
}

// readPackage returns the package a file holds, or ok=false if the data is
// not a complete simulated package.
func readPackage(data []byte) (p Package, ok bool) {
	rest, found := bytes.CutPrefix(data, []byte(packageHeader))
	if !found || !bytes.HasSuffix(data, []byte(packageTrailer)) {
		return Package{}, false
	}
	facts, _, found := bytes.Cut(rest, []byte("\n"))
	if !found {
		return Package{}, false
	}
	m := packageLine.FindStringSubmatch(string(facts))
	if m == nil {
		return Package{}, false
	}
	take, _ := strconv.Atoi(m[4])
	p = Package{Kind: m[1], Release: m[2], Build: m[3], Take: take}
	if _, err := p.validate(); err != nil {
		return Package{}, false
	}
	return p, true
}

// builds are the build numbers the simulator prints for releases (in `fw
// ver` and as "OS build" in `show version all`). R81.10 335 is the OS build
// of a public `show version all` capture; R82 777 is the build of a public
// R82 lab; R80.40 294, R81 392 and R81.20 631 are the build numbers in the
// public names of the releases' Fresh Install and Upgrade packages. A real
// gateway's `fw ver` build and its Gaia OS build differ; the simulator
// prints one number for both (a simplification).
var builds = map[string]string{
	"R80.40": "294",
	"R81":    "392",
	"R81.10": "335",
	"R81.20": "631",
	"R82":    "777",
}

// BuildOf returns the build number the simulator uses for release: the
// table above, or "100" for other releases (invented).
func BuildOf(release string) string {
	if b, ok := builds[release]; ok {
		return b
	}
	return "100"
}
