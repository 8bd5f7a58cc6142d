package junos

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hitless/hitless/versionpath"
)

// seedAll adds every capture in testdata/ (and its CRLF form) plus extra
// hand-written inputs as fuzz seeds.
func seedAll(f *testing.F, extra ...string) {
	f.Helper()
	for _, rel := range allFixtures(f) {
		s := readFixture(f, rel)
		f.Add(s)
		f.Add(strings.ReplaceAll(s, "\n", "\r\n"))
	}
	for _, s := range extra {
		f.Add(s)
	}
}

// FuzzParseChassisClusterStatus: no panic; errors are typed and come with a
// zero status; a status read as healthy has RG0, one primary and one
// secondary per group, no monitor failure, and its state words come from
// the input.
func FuzzParseChassisClusterStatus(f *testing.F) {
	seedAll(f,
		"Node name Priority Status Preempt Manual failover\nRedundancy-group: 0, Failover count: 1\nnode0 100 Primary no no\nnode1 1 Secondary no no\n",
		"Node Priority Status Preempt Manual Monitor-failures\nRedundancy group: 0\nnode0 100 PRIMARY no no None\nnode1 0 secondary no no CS,IF\n{hold:node1}\n",
		"error: Chassis cluster is not enabled.\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseChassisClusterStatus(in)
		if err != nil {
			if !typedParseErr(err) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			if errors.Is(err, ErrSoftwareAdd) {
				t.Fatalf("software add error from the cluster parser: %v", err)
			}
			if st.ClusterID != 0 || st.Groups != nil || st.LocalNode != "" {
				t.Fatalf("error with a status %+v", st)
			}
			return
		}
		if len(st.Groups) == 0 || st.ClusterID < 0 || st.ClusterID > 255 {
			t.Fatalf("status %+v", st)
		}
		lower := strings.ToLower(in)
		for _, g := range st.Groups {
			if len(g.Nodes) == 0 || len(g.Nodes) > 2 {
				t.Fatalf("group %d with %d nodes", g.ID, len(g.Nodes))
			}
			for _, n := range g.Nodes {
				if n.Node != "node0" && n.Node != "node1" || n.Priority < 0 || n.Priority > 255 {
					t.Fatalf("node %+v", n)
				}
				if _, ok := parseState(string(n.Status)); !ok || !strings.Contains(lower, string(n.Status)) ||
					!strings.EqualFold(n.RawStatus, string(n.Status)) {
					t.Fatalf("status %q (raw %q) not known or not from the input", n.Status, n.RawStatus)
				}
				if !n.MonitorKnown && n.MonitorFailures != nil {
					t.Fatalf("unknown monitor with codes %+v", n)
				}
			}
		}
		if st.Healthy() != nil {
			return
		}
		if _, ok := st.Group(0); !ok {
			t.Fatal("healthy without RG0")
		}
		for _, g := range st.Groups {
			p, s := 0, 0
			for _, n := range g.Nodes {
				switch n.Status {
				case StatePrimary:
					p++
				case StateSecondary:
					s++
				default:
					t.Fatalf("healthy with a %s node", n.Status)
				}
				if len(n.MonitorFailures) > 0 || n.Priority == 0 || n.Priority == 255 || n.Manual == FlagYes {
					t.Fatalf("healthy with %+v", n)
				}
			}
			if p != 1 || s != 1 {
				t.Fatalf("healthy group %d with %d primary, %d secondary", g.ID, p, s)
			}
			if node, ok := st.Primary(g.ID); !ok || node == "" {
				t.Fatalf("healthy group %d without Primary", g.ID)
			}
		}
		if !strings.Contains(lower, "primary") || !strings.Contains(lower, "secondary") {
			t.Fatal("healthy without primary and secondary in the input")
		}
	})
}

// FuzzParseSoftwareInformation: no panic; typed errors; every version read
// is a valid Junos version that occurs in the input.
func FuzzParseSoftwareInformation(f *testing.F) {
	seedAll(f,
		"Hostname: a\nModel: vsrx\nJunos: 21.4R3-S5.4\n",
		"Hostname: srx240\nJUNOS Software Release [12.1X44-D10.4]\n",
		"node0:\n---------\nJunos: 24.4R1-S2.9\nFamily: junos-es\nnode1:\n---------\nJunos: 24.4R1-S2.9\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		sw, err := ParseSoftwareInformation(in)
		if err != nil {
			if !typedParseErr(err) || errors.Is(err, ErrSoftwareAdd) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			if sw.Nodes != nil {
				t.Fatalf("error with nodes %+v", sw)
			}
			return
		}
		if len(sw.Nodes) == 0 {
			t.Fatal("no nodes without error")
		}
		seen := map[string]bool{}
		for _, n := range sw.Nodes {
			if seen[n.Node] {
				t.Fatalf("node %q twice", n.Node)
			}
			seen[n.Node] = true
			v, err := ParseVersion(n.Version.String())
			if err != nil || v != n.Version || !strings.Contains(in, v.String()) {
				t.Fatalf("version %q: %v", n.Version, err)
			}
		}
	})
}

// FuzzParseSystemStorage: no panic; typed errors; every node has file
// systems with a name, a mount point and a plausible percentage.
func FuzzParseSystemStorage(f *testing.F) {
	seedAll(f,
		"node0:\n-----------\nFilesystem Size Used Avail Capacity Mounted on\n/dev/da0s2e 356M -12M 340M 103% /var\n",
		"Filesystem 512-blocks Used Avail Capacity Mounted on\n/dev/da0s2e 729088 245760 425216 37% /var\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseSystemStorage(in)
		if err != nil {
			if !typedParseErr(err) || errors.Is(err, ErrSoftwareAdd) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			if st.Nodes != nil {
				t.Fatalf("error with nodes %+v", st)
			}
			return
		}
		if len(st.Nodes) == 0 {
			t.Fatal("no nodes without error")
		}
		for _, n := range st.Nodes {
			if len(n.Filesystems) == 0 {
				t.Fatalf("node %q without file systems", n.Node)
			}
			for _, fs := range n.Filesystems {
				if fs.Name == "" || fs.MountedOn == "" || fs.CapacityPercent < 0 || fs.CapacityPercent > 999 {
					t.Fatalf("file system %+v", fs)
				}
			}
		}
	})
}

// FuzzParseSoftwareAdd: no panic; typed errors; a success has a marker (or
// an XML result 0) and, for text output, no line carries a failure marker.
func FuzzParseSoftwareAdd(f *testing.F) {
	seedAll(f,
		"ERROR: insufficient space\n",
		"Validation failed\n",
		"error: command is not valid on the vsrx\n",
		"saving package file in /var/sw/pkg/jinstall.tgz ...\n",
		"<rpc-reply><package-result>1</package-result></rpc-reply>",
	)
	f.Fuzz(func(t *testing.T, in string) {
		res, err := ParseSoftwareAdd(in)
		if err != nil {
			if !typedParseErr(err) || errors.Is(err, ErrDeviceError) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			var se *SoftwareAddError
			if errors.As(err, &se) && (se.Message == "" || len(se.Lines) == 0 || se.Kind.sentinel() == nil && se.Kind != AddOther) {
				t.Fatalf("bad SoftwareAddError %+v", se)
			}
			if res.Pending || res.Marker != "" || res.Warnings != nil || res.HasPackageResult {
				t.Fatalf("error with a result %+v", res)
			}
			return
		}
		if !res.Pending && !(res.HasPackageResult && res.PackageResult == 0) {
			t.Fatalf("success without marker or result 0: %+v", res)
		}
		if res.PackageResult != 0 {
			t.Fatalf("success with package-result %d", res.PackageResult)
		}
		if res.Pending && !addSuccess(res.Marker) && len(res.Marker) < maxErrorText-utf8.UTFMax {
			t.Fatalf("marker %q is not a success marker", res.Marker)
		}
		low := strings.ToLower(in)
		for _, marker := range []string{"there is already an install pending", "validation failed", "insufficient space", "no space left on device"} {
			if strings.Contains(low, marker) {
				t.Fatalf("success despite %q in the input", marker)
			}
		}
		if _, _, isX := isXML(in, "request system software"); isX {
			return
		}
		for _, l := range splitLines(in) {
			if _, isPrompt := prompt(l.text); isPrompt {
				continue // the command typed, not its output
			}
			if kind, _, bad := addFailureKind(l.text); bad {
				t.Fatalf("success despite %s failure line %q", kind, l.text)
			}
		}
	})
}

// FuzzParseVersion: the package's version parser keeps the versionpath
// grammar contract (typed error naming the input, or a round-tripping
// version).
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"21.4R3-S10", "15.1X49-D180.2", "12.3X48-D10.3", "21.4R3.15", "23.4R2-S2.1", "", "21.4", "13.3-20131120"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			var pe *versionpath.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, versionpath.ErrMalformed) || pe.Input != s || pe.Grammar != GrammarName {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if v.String() != s || v.Compare(v) != 0 || !SameRelease(v, v) {
			t.Fatalf("version %q", s)
		}
		if strings.ContainsAny(s, " ;|&$`'\"\\\n\t") {
			t.Fatalf("version %q with shell or white-space characters", s)
		}
	})
}
