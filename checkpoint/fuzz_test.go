package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hitless/hitless/versionpath"
)

// seeds adds every capture under testdata (all commands: each parser must
// refuse the others' outputs cleanly), its CRLF form, and extra.
func seeds(f *testing.F, extra ...string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
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
	for _, s := range extra {
		f.Add(s)
	}
	f.Add("")
}

// checkError asserts that err is a well-formed *ParseError of command what
// whose category is one of cats, and that the value returned with it is the
// zero value.
func checkError(t *testing.T, err error, what string, zero any, cats ...error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("untyped error %T %v", err, err)
	}
	ok := false
	for _, c := range cats {
		if pe.Err == c && errors.Is(err, c) {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("error category %v not in %v", pe.Err, cats)
	}
	if pe.What != what || pe.Reason == "" || pe.Line < 0 || len(pe.Text) > maxErrorText || (pe.Line == 0 && pe.Text != "") {
		t.Fatalf("bad ParseError %+v", pe)
	}
	if !reflect.ValueOf(zero).IsZero() {
		t.Fatalf("error with a non-zero value %+v", zero)
	}
}

// FuzzParseClusterState: no panic; failures are typed; a success never holds
// an unknown state, and Healthy only for documented healthy states.
func FuzzParseClusterState(f *testing.F) {
	seeds(f,
		"Cluster Mode: High Availability (Active Up)\nID Unique Address Assigned Load State Name\n1 (local) 10.0.0.1 100% ACTIVE(!F) a\n2 10.0.0.2 0% READY b\n",
		"Cluster Mode: Load Sharing (Unicast)\nNumber Unique Address Assigned Load State\n1 (local) fd00::1 50% Active Attention\n--More--\r        \r2 fd00::2 50% Down\n",
		"Cluster Mode: x\nID State\n1 (local) ACTIVE\nLast member state change event:\n State change: INIT -> DOWN\nCluster failover count:\n Failover counter: 1\n",
		"Cluster Mode: x\nID State\n1 (local) STANDBYE\n",
		"Cluster Mode: x\nID State\n1 (local) ACTIVE\n1 STANDBY\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := ParseClusterState(in)
		if err != nil {
			checkError(t, err, "cphaprob state", cs, ErrUnrecognized)
			return
		}
		if cs.Mode == "" || len(cs.Members) == 0 {
			t.Fatalf("success without mode or members: %+v", cs)
		}
		ids, locals := map[int]bool{}, 0
		for _, m := range cs.Members {
			if ids[m.ID] {
				t.Fatalf("duplicate ID %d", m.ID)
			}
			ids[m.ID] = true
			if m.Local {
				locals++
			}
			checkState(t, m.State)
			if m.Load < -1 || m.Load > 100 {
				t.Fatalf("load %d", m.Load)
			}
		}
		if locals != 1 {
			t.Fatalf("%d local members", locals)
		}
		if ev := cs.LastStateChange; ev != nil && ev.From.Base != "" {
			checkState(t, ev.From)
			checkState(t, ev.To)
		}
		if cs.FailoverCount != nil && cs.FailoverCount.Counter < 0 {
			t.Fatalf("negative counter")
		}
	})
}

// checkState fails for a state that is not documented, or healthy while it
// should not be.
func checkState(t *testing.T, s State) {
	t.Helper()
	if !s.Known() || s.Raw == "" {
		t.Fatalf("unknown state reported: %+v", s)
	}
	switch s.Flags {
	case "", "!", "!F", "!P", "!FP":
	default:
		t.Fatalf("unknown flags %+v", s)
	}
	if s.Flags != "" && s.Base != StateActive {
		t.Fatalf("flags on %+v", s)
	}
	if s.Healthy() && (s.Flags != "" || (s.Base != StateActive && s.Base != StateStandby && s.Base != StateBackup)) {
		t.Fatalf("unhealthy state reported healthy: %+v", s)
	}
	if !strings.Contains(strings.ToUpper(s.Raw), s.Base) {
		t.Fatalf("raw %q does not carry base %q", s.Raw, s.Base)
	}
}

// FuzzParseClusterInterfaces: no panic; failures are typed; a success has
// only documented states, and Up only when every printed direction is UP.
func FuzzParseClusterInterfaces(f *testing.F) {
	seeds(f,
		"eth1 (S-LS) UP\neth2 (LM) DOWN (12.5 secs)\nVirtual cluster interfaces: 1\neth2 192.168.2.247\n",
		"LAN1 (P) Inbound: UP\nOutbound: DOWN (566.1 secs)\n",
		"eth0 UP non sync(non secured), broadcast eth1 UP sync(secured), multicast\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		x, err := ParseClusterInterfaces(in)
		if err != nil {
			checkError(t, err, "cphaprob -a if", x, ErrUnrecognized)
			return
		}
		if len(x.Interfaces) == 0 {
			t.Fatal("success without interfaces")
		}
		if x.VirtualCount >= 0 && x.VirtualCount != len(x.Virtual) {
			t.Fatalf("virtual count %d, %d rows", x.VirtualCount, len(x.Virtual))
		}
		names := map[string]bool{}
		for _, i := range x.Interfaces {
			if names[i.Name] || i.Name == "" {
				t.Fatalf("bad or duplicate name %q", i.Name)
			}
			names[i.Name] = true
			for _, l := range []Link{i.Status, i.Inbound, i.Outbound} {
				switch l.State {
				case "", InterfaceUp, InterfaceDown, InterfaceNonMonitored:
				default:
					t.Fatalf("unknown state %+v", l)
				}
				if l.Elapsed < 0 {
					t.Fatalf("negative elapsed %+v", l)
				}
			}
			if i.Status.State == "" && i.Inbound.State == "" && i.Outbound.State == "" {
				t.Fatalf("interface without state %+v", i)
			}
			if i.Up() && i.Status.State != InterfaceUp && (i.Inbound.State != InterfaceUp || i.Outbound.State != InterfaceUp) {
				t.Fatalf("reported up: %+v", i)
			}
		}
		for _, v := range x.Virtual {
			if !v.Address.IsValid() {
				t.Fatalf("invalid virtual address %+v", v)
			}
		}
	})
}

// Setting words as whole words, for FuzzParseMVC.
var (
	onWordRe  = regexp.MustCompile(`(?i)\b(?:on|enabled)\b`)
	offWordRe = regexp.MustCompile(`(?i)\b(?:off|disabled)\b`)
)

// FuzzParseMVC: no panic; failures are typed; a success comes from a line of
// the input that carries the setting word.
func FuzzParseMVC(f *testing.F) {
	seeds(f, "[Expert@gw1:0]# cphaprob mvc\n\nON\n[Expert@gw1:0]#\n", "MVC: On\n", "EnABled", "DISABLED.", "Multi-Version Cluster: enabled\n",
		"mvc is off\n", "MVC: on\nMVC: off\n", "MVC is not enabled\n", "MVC status:\nOn\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseMVC(in)
		if err != nil {
			checkError(t, err, "cphaprob mvc", m, ErrUnrecognized)
			return
		}
		on := onWordRe.MatchString(m.Text)
		off := offWordRe.MatchString(m.Text)
		if m.Enabled != on || on == off {
			t.Fatalf("setting %v from %q", m.Enabled, m.Text)
		}
	})
}

// FuzzParseVSXStat: no panic; failures are typed (ErrUnrecognized or
// ErrNotVSX); a success has unique IDs and typed devices, and a device
// without Problem is trusted.
func FuzzParseVSXStat(f *testing.F) {
	seeds(f, "VSX is not supported on this platform\n",
		"VSX Gateway Status\n ID | Type & Name | Policy Name | SIC Stat\n 1 | S a | <No Policy> | Trust\n 2 | W b | <Not Applicable> | No Trust\nType: S - Virtual System, T - Target.\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseVSXStat(in)
		if err != nil {
			checkError(t, err, "vsx stat -v", s, ErrUnrecognized, ErrNotVSX)
			return
		}
		ids := map[int]bool{}
		for _, d := range s.Devices {
			if ids[d.ID] || d.ID < 0 {
				t.Fatalf("bad or duplicate ID %d", d.ID)
			}
			ids[d.ID] = true
			if d.Type == "" || d.TypeCode == "" || d.Name == "" {
				t.Fatalf("untyped device %+v", d)
			}
			if d.Problem() == "" && !strings.EqualFold(d.SIC, "Trust") {
				t.Fatalf("untrusted device reported ready %+v", d)
			}
		}
	})
}

// FuzzParseJumboTake: no panic; failures are typed (ErrUnrecognized,
// ErrNoTake, ErrNoHotfixes); a success has a non-negative take and a release
// that the versionpath grammar accepts.
func FuzzParseJumboTake(f *testing.F) {
	seeds(f, "No hotfixes..\n", "Take: 25\n", "25\n", "\tHOTFIX_R80_20_JHF_T118_EQ_251_MAIN\n",
		"[CPUpdates]\n\tBUNDLE_R82_JUMBO_HF_MAIN\tTake:  91\n",
		"Display name      Status\nR82 Jumbo Hotfix Accumulator Take 60      Installed as part of\nR82 Jumbo Hotfix Accumulator Take 91      Installed\n")
	f.Fuzz(func(t *testing.T, in string) {
		tk, err := ParseJumboTake(in)
		if err != nil {
			checkError(t, err, whatTake, tk, ErrUnrecognized, ErrNoTake, ErrNoHotfixes)
			return
		}
		if tk.Number < 0 {
			t.Fatalf("negative take %d", tk.Number)
		}
		if tk.Release != "" {
			if _, err := tk.ReleaseVersion(); err != nil {
				t.Fatalf("release %q: %v", tk.Release, err)
			}
		}
	})
}

// FuzzParseVersion: no panic; failures are typed; a success has a release
// the versionpath grammar accepts and a numeric build.
func FuzzParseVersion(f *testing.F) {
	seeds(f, "This is Check Point's software version R80.20SP - Build 123\n",
		"Product version: Check Point Gaia R82\nOS build: 777\n", "This is Check Point's software version R81.x - Build 059\n")
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ParseVersion(in)
		if err != nil {
			checkError(t, err, whatVersion, v, ErrUnrecognized)
			var vpe *versionpath.ParseError
			if errors.As(err, &vpe) && !errors.Is(err, versionpath.ErrMalformed) {
				t.Fatalf("wrapped grammar error without ErrMalformed: %v", err)
			}
			return
		}
		if _, err := v.ReleaseVersion(); err != nil {
			t.Fatalf("release %q: %v", v.Release, err)
		}
		if v.Build != "" && strings.Trim(v.Build, "0123456789") != "" {
			t.Fatalf("build %q", v.Build)
		}
	})
}
