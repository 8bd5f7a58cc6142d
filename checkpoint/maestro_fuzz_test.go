package checkpoint

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// maestroSeeds adds every capture (seeds), every hand-written Maestro
// variant under testdata/maestro with its CRLF form, and extra.
func maestroSeeds(f *testing.F, extra ...string) {
	f.Helper()
	seeds(f, extra...)
	files, err := filepath.Glob(filepath.Join("testdata", "maestro", "*", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no Maestro variants: %v", err)
	}
	sort.Strings(files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		f.Add(strings.ReplaceAll(string(b), "\n", "\r\n"))
	}
}

// checkSGMID fails unless id is canonical and agrees with site and n.
func checkSGMID(t *testing.T, id string, site, n int) {
	t.Helper()
	c, s, k, err := ParseSGMID(id)
	if err != nil || c != id || s != site || k != n {
		t.Fatalf("id %q (site %d, n %d) not canonical: %q %d %d %v", id, site, n, c, s, k, err)
	}
}

// FuzzParseASGStat: no panic; failures are typed; a success has at least
// one SGM, canonical unique ids inside a listed section, known states and
// processes, at most one local SGM, and Forwarding only when UP and
// Enforcing Security.
func FuzzParseASGStat(f *testing.F) {
	maestroSeeds(f,
		"| System Status - Maestro |\n| Site 1 ACTIVE |\n| 1_1 (local) UP Enforcing Security 02Dec26 10:00 |\n| 1_3 DOWN (admin) Inactive 02Dec26 10:00 |\n",
		"| VSX System Status |\n| VS ID: 0 VS Name: x |\n| Chassis 2 STANDBY |\n| 3 DOWN Inactive NA |\n...\n",
		"| System Status - Maestro |\n| Version | R82 |\n| Site 1 ACTIVE |\n| 1_01 UP Ready NA |\n| 1_1 UP Ready NA |\n",
		"| System Status - Maestro |\n| Site 1 ACTIVE |\n| 1_1 UP Enforcing Security 31Feb99 23:59 |\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseASGStat(in)
		if err != nil {
			checkError(t, err, whatASGStat, st, ErrUnrecognized)
			return
		}
		if len(st.SGMs) == 0 {
			t.Fatalf("success without SGMs: %+v", st)
		}
		if !st.VSX && (st.VSName != "" || st.VSID != 0) {
			t.Fatalf("VS row without VSX: %+v", st)
		}
		sites := map[int]bool{}
		for _, s := range st.Sites {
			if sites[s.ID] || s.ID < 1 || !siteStates[s.State] || (s.Kind != "Site" && s.Kind != "Chassis") || s.Kind != st.Sites[0].Kind {
				t.Fatalf("bad site %+v in %+v", s, st.Sites)
			}
			sites[s.ID] = true
		}
		ids, locals := map[string]bool{}, 0
		for _, s := range st.SGMs {
			checkSGMID(t, s.ID, s.Site, s.Number)
			if ids[s.ID] || !sites[s.Site] {
				t.Fatalf("duplicate SGM or SGM outside a section: %+v", s)
			}
			ids[s.ID] = true
			if s.Local {
				locals++
			}
			if s.State != SGMUp && s.State != SGMDown {
				t.Fatalf("unknown state %+v", s)
			}
			if s.Admin && s.State != SGMDown {
				t.Fatalf("admin while %s", s.State)
			}
			switch s.Process {
			case ProcessEnforcing, ProcessInactive, ProcessReady, ProcessInitializing:
			default:
				t.Fatalf("unknown process %+v", s)
			}
			if s.Policy != "NA" {
				p := strings.Fields(s.Policy)
				if len(p) != 2 || !validPolicyDate(p[0], p[1]) {
					t.Fatalf("bad policy %q", s.Policy)
				}
			}
			if s.Forwarding() != (s.State == SGMUp && s.Process == ProcessEnforcing) {
				t.Fatalf("forwarding %v for %+v", s.Forwarding(), s)
			}
			if got, ok := st.SGM(s.ID); !ok || got != s {
				t.Fatalf("SGM(%q) = %+v, %v", s.ID, got, ok)
			}
		}
		if locals > 1 {
			t.Fatalf("%d local SGMs", locals)
		}
	})
}

// FuzzParseGAll: no panic; failures are typed; a success has canonical ids
// unique across blocks, no banner and no surrounding blank line in an
// Output.
func FuzzParseGAll(f *testing.F) {
	maestroSeeds(f,
		"-*- 1 blade: 1_04 -*-\nx\n",
		"[Expert@sg:0]# g_all fw ver\n-*- 2 blades: 1_01 2_01 -*-\n\nA\n\n-*- 1 blade: 1_02 -*-\nB\n[Expert@sg:0]#\n",
		"-*- 2 blades: 1_01 1_1 -*-\n",
		"-*- 3 blades: 1_01 1_02 -*-\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		blocks, err := ParseGAll(in)
		if err != nil {
			checkError(t, err, whatGAll, blocks, ErrUnrecognized)
			return
		}
		ids := map[string]bool{}
		for _, b := range blocks {
			if len(b.SGMs) == 0 {
				t.Fatalf("block without SGMs %+v", b)
			}
			for _, id := range b.SGMs {
				if ids[id] {
					t.Fatalf("duplicate %q", id)
				}
				ids[id] = true
				if c, _, _, err := ParseSGMID(id); err != nil || c != id {
					t.Fatalf("id %q not canonical", id)
				}
			}
			if strings.TrimSpace(b.Output) != b.Output {
				t.Fatalf("surrounding blank lines in %q", b.Output)
			}
			for _, l := range strings.Split(b.Output, "\n") {
				if strings.HasPrefix(l, "-*-") {
					t.Fatalf("banner in output %q", b.Output)
				}
			}
		}
	})
}

// FuzzParseBondModes: no panic; failures are typed; a success has unique
// named bonds with a known mode, LACP exactly for 802.3ad.
func FuzzParseBondModes(f *testing.F) {
	maestroSeeds(f,
		"/proc/net/bonding/bond1:Bonding Mode: IEEE 802.3ad Dynamic link aggregation\n",
		"/proc/net/bonding/bond1:Bonding Mode: load balancing (xor)\n/proc/net/bonding/bond1:Bonding Mode: load balancing (xor)\n",
		"/proc/net/bonding/bond1:Bonding Mode: 802.3ad\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		bonds, err := ParseBondModes(in)
		if err != nil {
			checkError(t, err, whatBonds, bonds, ErrUnrecognized)
			return
		}
		names := map[string]bool{}
		for _, b := range bonds {
			if b.Name == "" || names[b.Name] || !bondModes[strings.ToLower(b.Mode)] {
				t.Fatalf("bad bond %+v", b)
			}
			names[b.Name] = true
			if b.LACP != strings.Contains(b.Mode, "802.3ad") {
				t.Fatalf("LACP %v for %q", b.LACP, b.Mode)
			}
		}
	})
}

// FuzzParseAutoClone: no panic; failures are typed; a success is the word
// printed after "auto-clone state:".
func FuzzParseAutoClone(f *testing.F) {
	maestroSeeds(f, "Image auto-clone state: on\n", "Image auto-clone state: off\nImage auto-clone state: on\n", "image AUTO-CLONE state :OFF")
	f.Fuzz(func(t *testing.T, in string) {
		on, err := ParseAutoClone(in)
		if err != nil {
			checkError(t, err, whatAutoClone, on, ErrUnrecognized)
			return
		}
		word := "off"
		if on {
			word = "on"
		}
		compact := strings.Join(strings.Fields(strings.ToLower(in)), "")
		if !strings.Contains(compact, "auto-clonestate:"+word) {
			t.Fatalf("%v without %q in the input", on, word)
		}
	})
}

// FuzzParseVerifier: no panic; failures are typed; OK only with the
// success line in Text and no error; a success that is not OK has errors.
func FuzzParseVerifier(f *testing.F) {
	maestroSeeds(f, "Verification succeeded.\n", "Error: x\nVerification failed.\n", "Verification succeeded.\nVerification failed.\n", "Error: a\nVerification succeeded.\n")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseVerifier(in)
		if err != nil {
			checkError(t, err, whatVerifier, r, ErrUnrecognized)
			return
		}
		if r.OK && (len(r.Errors) > 0 || !strings.Contains(strings.ToLower(r.Text), "verification succeeded")) {
			t.Fatalf("OK report %+v", r)
		}
		if !r.OK && len(r.Errors) == 0 {
			t.Fatalf("failed report without errors %+v", r)
		}
		if r.Text == "" {
			t.Fatalf("empty Text %+v", r)
		}
	})
}

// FuzzParseAssetModel: no panic; failures are typed; a success is a
// non-empty, trimmed value without line breaks.
func FuzzParseAssetModel(f *testing.F) {
	maestroSeeds(f, "Model: MHO-140\n", "Model: MHO-140\nModel: MHO-175\n", "model :  x  y \n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseAssetModel(in)
		if err != nil {
			checkError(t, err, whatAsset, m, ErrUnrecognized)
			return
		}
		if m == "" || strings.TrimSpace(m) != m || strings.ContainsAny(m, "\r\n") {
			t.Fatalf("model %q", m)
		}
	})
}
