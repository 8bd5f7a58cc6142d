package junos

import (
	"testing"
)

func TestParseFileSize(t *testing.T) {
	out := "-rw-r--r--  1 root  wheel      65536 Dec  2 14:00 /var/tmp/junos-install-vsrx3-x86-64-22.4R3-S2.tgz\n"
	if size, ok := parseFileSize(out, "junos-install-vsrx3-x86-64-22.4R3-S2.tgz"); !ok || size != 65536 {
		t.Errorf("size %d ok %t", size, ok)
	}
	listing := "/var/tmp/:\ntotal blocks: 128\n-rw-r--r--  1 root  wheel      65536 Dec  2 14:00 other.tgz\ntotal files: 1\n"
	if _, ok := parseFileSize(listing, "junos-install-vsrx3-x86-64-22.4R3-S2.tgz"); ok {
		t.Error("found a file that is not listed")
	}
	if _, ok := parseFileSize("/var/tmp/x.tgz: No such file or directory", "x.tgz"); ok {
		t.Error("found a missing file")
	}
}

func TestParseClusterLinks(t *testing.T) {
	l, err := parseClusterLinks("Control link status: Up\n\nControl interfaces:\n...\nFabric link status: Down\n")
	if err != nil || l.control != "Up" || l.fabric != "Down" {
		t.Errorf("%+v, %v", l, err)
	}
	if _, err := parseClusterLinks("garbled"); err == nil {
		t.Error("garbled output accepted (fail closed)")
	}
}

func TestParseAlarms(t *testing.T) {
	out := `node0:
--------------------------------------------------------------------------
No alarms currently active

node1:
--------------------------------------------------------------------------
2 alarms currently active
Alarm time               Class  Description
2024-01-10 12:00:00 UTC  Major  FPC 0 Major Errors
2024-01-10 12:00:00 UTC  Minor  Rescue configuration is not set
`
	a0, err := parseAlarms(out, "node0")
	if err != nil || len(a0.major)+len(a0.minor) != 0 {
		t.Errorf("node0: %+v %v", a0, err)
	}
	a1, err := parseAlarms(out, "node1")
	if err != nil || len(a1.major) != 1 || len(a1.minor) != 1 {
		t.Errorf("node1: %+v %v", a1, err)
	}
	if _, err := parseAlarms("3 alarms currently active\n", "node0"); err == nil {
		t.Error("announced alarms not listed: accepted")
	}
	if _, err := parseAlarms("", "node0"); err == nil {
		t.Error("empty output accepted")
	}
}
