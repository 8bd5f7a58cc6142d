package junos

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

const whatStorage = "show system storage"

// BlockSize is the size in bytes of the blocks that the get-system-storage
// RPC reports (<total-blocks>, <used-blocks>, <available-blocks>): 512, as
// the junos:format attribute of the same elements shows (43628 blocks =
// "21M").
const BlockSize = 512

// Filesystem is one row of `show system storage`.
type Filesystem struct {
	// Name is the file system, e.g. "/dev/gpt/var", "tmpfs".
	Name string
	// Size, Used and Available are in bytes. Available can be negative (a
	// file system filled into its reserve).
	Size, Used, Available int64
	// CapacityPercent is the Capacity column / <used-percent> (it can exceed
	// 100 on a file system filled into its reserve).
	CapacityPercent int
	// MountedOn is the mount point, e.g. "/.mount/var".
	MountedOn string
	// Approximate is true when the sizes come from the human units of the
	// text output ("1.2G", "356M", 1024-based): they are then exact only to
	// the last printed digit. XML block counts are exact.
	Approximate bool
}

// NodeStorage is the storage of one node (or of a standalone device).
type NodeStorage struct {
	// Node is "node0"/"node1" on a chassis cluster (the "node0:" header or
	// <re-name>); "" on a standalone device.
	Node        string
	Filesystems []Filesystem
}

// Available returns the free bytes of the file system mounted on mount.
// When no file system is mounted exactly there, a file system mounted on
// "/.mount"+mount is used (Junos on FreeBSD 11 and later mounts /var as
// /.mount/var). ok is false when neither is found or the mount point is
// listed twice.
func (n NodeStorage) Available(mount string) (bytes int64, ok bool) {
	for _, m := range []string{mount, "/.mount" + mount} {
		found := 0
		for _, f := range n.Filesystems {
			if f.MountedOn == m {
				bytes, found = f.Available, found+1
			}
		}
		switch found {
		case 1:
			return bytes, true
		case 0:
			continue
		}
		return 0, false
	}
	return 0, false
}

// Storage is the output of `show system storage` (RPC get-system-storage),
// one entry per node in output order.
type Storage struct {
	Nodes []NodeStorage
}

// Node returns the storage of the named node ("" for a standalone device).
func (s Storage) Node(name string) (NodeStorage, bool) {
	for _, n := range s.Nodes {
		if n.Node == name {
			return n, true
		}
	}
	return NodeStorage{}, false
}

// Available returns the smallest free space, in bytes, of mount over every
// node (see NodeStorage.Available): on a chassis cluster the package must
// fit on both nodes. ok is false when there is no node or any node lacks
// the mount point.
func (s Storage) Available(mount string) (bytes int64, ok bool) {
	for i, n := range s.Nodes {
		b, found := n.Available(mount)
		if !found {
			return 0, false
		}
		if i == 0 || b < bytes {
			bytes = b
		}
	}
	return bytes, len(s.Nodes) > 0
}

var (
	stHeaderRe = regexp.MustCompile(`(?i)^Filesystem\s+(Size|\d{3,4}-blocks|1K-blocks)\s+Used\s+Avail\s+Capacity\s+Mounted on$`)
	stRowRe    = regexp.MustCompile(`^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{1,3})%\s+(\S.*)$`)
	// humanRe is a df -h size: "20G", "1.2G", "0B", "-1.5M".
	humanRe = regexp.MustCompile(`^(-?)(\d{1,7})(?:\.(\d{1,3}))?([BKMGTPE])?$`)
	blockRe = regexp.MustCompile(`^-?\d{1,18}$`)
)

// ParseSystemStorage reads the output of `show system storage`, as text or
// as XML (`| display xml`, RPC get-system-storage), per node. Source: the
// Junos OS CLI reference (`show system storage`) and captures of Junos 17.3
// to 18.2 and a FreeBSD 11 based release.
//
// Text: an optional "node0:" / "node1:" header per node (with its dashed
// line), the header "Filesystem Size Used Avail Capacity Mounted on", then
// one row per file system. Sizes are human units of 1024 ("1.0K", "793M",
// "1.2G", "0B"; negative allowed) converted to bytes and rounded; a header
// with "512-blocks", "1024-blocks" or "1K-blocks" instead of "Size" takes
// integer block counts. Capacity ends in "%" (such lines may be eaten by a
// CLI driver that takes "%" for a shell prompt: check the row count).
// Before the header, unknown lines (a timestamp) are skipped; after it,
// every line must be a row, a node header, a banner, a prompt (command
// `show system storage ...`) or blank.
//
// XML: an optional <rpc-reply> holding <system-storage-information> or
// <multi-routing-engine-results> with one <multi-routing-engine-item>
// {<re-name>, <system-storage-information>} per node; each <filesystem>
// has <filesystem-name>, <total-blocks>, <used-blocks>, <available-blocks>
// (blocks of BlockSize bytes), <used-percent> (surrounding spaces allowed)
// and <mounted-on>. When a block element carries a junos:format attribute
// ("21M"), the two must agree to the attribute's last digit, else the block
// size is not the one assumed and the reply is refused.
//
// Errors: a *DeviceError for an "error:" line or an xnm:error; otherwise a
// *ParseError (ErrUnrecognized) for empty output, no header or no row for a
// node, a malformed size or percentage, a size out of the int64 range, a
// row before the header, a node named twice, a missing or repeated element,
// and XML that is not well formed.
func ParseSystemStorage(output string) (Storage, error) {
	if body, skipped, ok := isXML(output, whatStorage); ok {
		return parseStorageXML(body, skipped)
	}
	return parseStorageText(output)
}

// parseHuman converts a df -h size to bytes (rounded to the nearest byte)
// and returns the value of one unit of its last digit.
func parseHuman(s string) (bytes, ulp int64, ok bool) {
	m := humanRe.FindStringSubmatch(s)
	if m == nil || m[4] == "" && s != "0" {
		return 0, 0, false
	}
	letter := m[4]
	if letter == "" {
		letter = "B" // a bare "0"
	}
	exp := strings.IndexByte("BKMGTPE", letter[0])
	unit := new(big.Int).Lsh(big.NewInt(1), uint(10*exp))
	mant, _ := new(big.Int).SetString(m[2]+m[3], 10)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(m[3]))), nil)
	num := new(big.Int).Mul(mant, unit)
	// round half up: (num + scale/2) / scale
	q := new(big.Int).Div(num.Add(num, new(big.Int).Rsh(scale, 1)), scale)
	if m[1] == "-" {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, 0, false
	}
	u := new(big.Int).Div(unit, scale)
	if u.Sign() == 0 {
		u.SetInt64(1)
	}
	return q.Int64(), u.Int64(), true
}

// parseBlocks converts a block count to bytes.
func parseBlocks(s string, size int64) (int64, bool) {
	if !blockRe.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64/size || n < math.MinInt64/size {
		return 0, false
	}
	return n * size, true
}

func parsePercent(s string) (int, bool) {
	if !isDigits(s, 3) {
		return 0, false
	}
	p, _ := strconv.Atoi(s)
	return p, true
}

func parseStorageText(output string) (Storage, error) {
	fail := func(l outLine, format string, args ...any) (Storage, error) {
		return Storage{}, newParseError(whatStorage, l.n, l.text, fmt.Sprintf(format, args...), nil)
	}
	if strings.TrimSpace(output) == "" {
		return fail(outLine{}, "empty output")
	}
	var (
		st       Storage
		cur      *NodeStorage
		curLine  outLine
		header   bool  // the current section has its header
		block    int64 // 0: human sizes; else the header's block size
		sections int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		if len(cur.Filesystems) == 0 {
			return newParseError(whatStorage, curLine.n, curLine.text, "no file system rows for "+nodeLabel(cur.Node), nil)
		}
		st.Nodes = append(st.Nodes, *cur)
		cur, header = nil, false
		return nil
	}
	for _, l := range splitLines(output) {
		if skip, err := frame(whatStorage, whatStorage, l); err != nil {
			return Storage{}, err
		} else if skip || swDashesRe.MatchString(l.text) {
			continue
		}
		if cliErrorRe.MatchString(l.text) {
			return Storage{}, &DeviceError{What: whatStorage, Message: cut(l.text, maxErrorText), Line: l.n}
		}
		if m := swSectionRe.FindStringSubmatch(l.text); m != nil {
			if cur != nil && cur.Node == "" {
				return fail(l, "node header after output without one")
			}
			if err := flush(); err != nil {
				return Storage{}, err
			}
			if _, dup := st.Node(m[1]); dup {
				return fail(l, "%s printed twice", m[1])
			}
			sections++
			cur, curLine = &NodeStorage{Node: m[1]}, l
			continue
		}
		if m := stHeaderRe.FindStringSubmatch(l.text); m != nil {
			if cur == nil {
				if sections > 0 {
					return fail(l, "header after a node section but outside any")
				}
				cur, curLine = &NodeStorage{}, l
			}
			if header {
				return fail(l, "second header for %s", nodeLabel(cur.Node))
			}
			header, block = true, 0
			switch h := strings.ToLower(m[1]); {
			case h == "1k-blocks":
				block = 1024
			case h != "size":
				block, _ = strconv.ParseInt(strings.TrimSuffix(h, "-blocks"), 10, 64)
			}
			continue
		}
		if !header {
			if stRowRe.MatchString(l.text) {
				return fail(l, "file system row before the header")
			}
			continue // a line before the output (a timestamp)
		}
		m := stRowRe.FindStringSubmatch(l.text)
		if m == nil {
			return fail(l, "unrecognized line")
		}
		fs := Filesystem{Name: m[1], MountedOn: m[6], Approximate: block == 0}
		for i, dst := range []*int64{&fs.Size, &fs.Used, &fs.Available} {
			var ok bool
			if block == 0 {
				*dst, _, ok = parseHuman(m[2+i])
			} else {
				*dst, ok = parseBlocks(m[2+i], block)
			}
			if !ok {
				return fail(l, "size %q is not a size like 1.2G (or a block count)", m[2+i])
			}
		}
		fs.CapacityPercent, _ = parsePercent(m[5])
		cur.Filesystems = append(cur.Filesystems, fs)
	}
	if err := flush(); err != nil {
		return Storage{}, err
	}
	if len(st.Nodes) == 0 {
		return fail(outLine{}, "no Filesystem header found")
	}
	return st, nil
}

func parseStorageXML(body string, skipped int) (Storage, error) {
	const what = whatStorage
	root, err := parseXML(what, body, skipped)
	if err != nil {
		return Storage{}, err
	}
	if err := replyError(what, root); err != nil {
		return Storage{}, err
	}
	var st Storage
	add := func(node string, ssi *xnode) error {
		if _, dup := st.Node(node); dup {
			return newParseError(what, ssi.line, node, "node repeated", nil)
		}
		ns := NodeStorage{Node: node}
		for _, f := range ssi.children("filesystem") {
			fs, err := xmlFilesystem(f)
			if err != nil {
				return err
			}
			ns.Filesystems = append(ns.Filesystems, fs)
		}
		if len(ns.Filesystems) == 0 {
			return newParseError(what, ssi.line, node, "<system-storage-information> without <filesystem>", nil)
		}
		st.Nodes = append(st.Nodes, ns)
		return nil
	}
	plain := 0
	for _, p := range payload(root) {
		switch p.name {
		case "system-storage-information":
			if plain++; plain > 1 || len(st.Nodes) > 0 {
				return Storage{}, newParseError(what, p.line, "", "more than one <system-storage-information> without <re-name>", nil)
			}
			if err := add("", p); err != nil {
				return Storage{}, err
			}
		case "multi-routing-engine-results":
			if plain > 0 {
				return Storage{}, newParseError(what, p.line, "", "<multi-routing-engine-results> beside a plain <system-storage-information>", nil)
			}
			for _, it := range p.children("multi-routing-engine-item") {
				name, ok, err := oneChild(what, it, "re-name")
				if err != nil {
					return Storage{}, err
				}
				if !ok || name.value() == "" {
					return Storage{}, newParseError(what, it.line, "", "<multi-routing-engine-item> without <re-name>", nil)
				}
				ssi, ok, err := oneChild(what, it, "system-storage-information")
				if err != nil {
					return Storage{}, err
				}
				if !ok {
					return Storage{}, newParseError(what, it.line, name.value(), "<multi-routing-engine-item> without <system-storage-information>", nil)
				}
				if err := add(name.value(), ssi); err != nil {
					return Storage{}, err
				}
			}
		}
	}
	if len(st.Nodes) == 0 {
		return Storage{}, newParseError(what, root.line, root.name, "no <system-storage-information> element", nil)
	}
	return st, nil
}

// xmlFilesystem reads one <filesystem>.
func xmlFilesystem(f *xnode) (Filesystem, error) {
	const what = whatStorage
	get := func(name string) (*xnode, error) {
		e, ok, err := oneChild(what, f, name)
		if err != nil {
			return nil, err
		}
		if !ok || e.value() == "" {
			return nil, newParseError(what, f.line, "", fmt.Sprintf("<filesystem> without <%s>", name), nil)
		}
		return e, nil
	}
	var fs Filesystem
	for _, x := range []struct {
		name string
		dst  *string
	}{{"filesystem-name", &fs.Name}, {"mounted-on", &fs.MountedOn}} {
		e, err := get(x.name)
		if err != nil {
			return Filesystem{}, err
		}
		*x.dst = e.value()
	}
	for _, x := range []struct {
		name string
		dst  *int64
	}{{"total-blocks", &fs.Size}, {"used-blocks", &fs.Used}, {"available-blocks", &fs.Available}} {
		e, err := get(x.name)
		if err != nil {
			return Filesystem{}, err
		}
		b, ok := parseBlocks(e.value(), BlockSize)
		if !ok {
			return Filesystem{}, newParseError(what, e.line, e.value(), fmt.Sprintf("<%s> of %s is not a block count", x.name, fs.Name), nil)
		}
		if format, has := e.attr("format"); has {
			h, ulp, ok := parseHuman(strings.TrimSpace(format))
			if !ok {
				return Filesystem{}, newParseError(what, e.line, format, fmt.Sprintf("<%s> of %s: junos:format is not a size", x.name, fs.Name), nil)
			}
			if d := b - h; d > ulp || d < -ulp {
				return Filesystem{}, newParseError(what, e.line, format,
					fmt.Sprintf("<%s> of %s: %s blocks of %d bytes do not match junos:format", x.name, fs.Name, e.value(), BlockSize), nil)
			}
		}
		*x.dst = b
	}
	e, err := get("used-percent")
	if err != nil {
		return Filesystem{}, err
	}
	var ok bool
	if fs.CapacityPercent, ok = parsePercent(e.value()); !ok {
		return Filesystem{}, newParseError(what, e.line, e.value(), "<used-percent> of "+fs.Name+" is not a percentage", nil)
	}
	return fs, nil
}
