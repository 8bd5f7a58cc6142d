package clavistertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FirmwareSize is the size in bytes of the files WriteFirmware writes.
// Real .upg files are tens of megabytes; 64 KiB keeps tests fast while
// still spanning many SSH packets.
const FirmwareSize = 64 << 10

// Simulated package layout: a header line naming the version, filler lines,
// and a trailer line repeating it. A file without its trailer (e.g. cut by
// Faults.TruncateUpload) is an invalid package.
const (
	firmwareHeader  = "cOS Core upgrade package "
	firmwareTrailer = "end of cOS Core upgrade package "
)

// FirmwareName returns the file name WriteFirmware uses for version:
// "cos-core-<version>.upg", a space (before "TP") written as "_". It
// matches [A-Za-z0-9._+-]+\.upg.
func FirmwareName(version string) string {
	return "cos-core-" + strings.ReplaceAll(version, " ", "_") + ".upg"
}

// WriteFirmware writes a simulated cOS Core upgrade package for version
// (same grammar as Options.Version) into dir, named FirmwareName(version),
// and returns its path. The file is FirmwareSize bytes: its first line is
// "cOS Core upgrade package <version>", its last line "end of cOS Core
// upgrade package <version>", and deterministic filler lies in between.
// A unit that reboots after receiving it comes back on version.
func (p *Pair) WriteFirmware(dir, version string) (string, error) {
	if !versionRe.MatchString(version) {
		return "", fmt.Errorf("clavistertest: WriteFirmware: %q is not a cOS Core version", version)
	}
	path := filepath.Join(dir, FirmwareName(version))
	if err := os.WriteFile(path, firmware(version), 0o644); err != nil {
		return "", fmt.Errorf("clavistertest: WriteFirmware: %w", err)
	}
	return path, nil
}

// firmware returns the bytes of a simulated package.
func firmware(version string) []byte {
	head := firmwareHeader + version + "\n"
	tail := firmwareTrailer + version + "\n"
	var b bytes.Buffer
	b.Grow(FirmwareSize)
	b.WriteString(head)
	sum := sha256.Sum256([]byte(version))
	for b.Len()+len(tail) < FirmwareSize {
		line := hex.EncodeToString(sum[:]) + "\n" // 65 bytes
		if n := FirmwareSize - len(tail) - b.Len(); n < len(line) {
			line = strings.Repeat("0", n-1) + "\n"
		}
		b.WriteString(line)
		sum = sha256.Sum256(sum[:])
	}
	b.WriteString(tail)
	return b.Bytes()
}

// readPackage returns the version of a complete simulated package, or
// ok=false if data is not one (wrong header, missing or mismatched trailer).
func readPackage(data []byte) (version string, ok bool) {
	first, _, found := bytes.Cut(data, []byte("\n"))
	if !found || !bytes.HasPrefix(first, []byte(firmwareHeader)) {
		return "", false
	}
	version = string(first[len(firmwareHeader):])
	if !versionRe.MatchString(version) || !bytes.HasSuffix(data, []byte(firmwareTrailer+version+"\n")) {
		return "", false
	}
	return version, true
}
