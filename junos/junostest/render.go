package junostest

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// rowInfo is one node row of `show chassis cluster status`.
type rowInfo struct {
	prio                              int
	status, preempt, manual, monitors string
}

// row is node n's row in redundancy group g as viewer v prints it: "lost"
// (priority 0, n/a) when v cannot see n; else its state, effective
// priority, preempt, Manual and monitor failures ("CS" while cold syncing,
// in RG1 and up).
func (s *Sim) row(v, n *Node, g int, now time.Time) rowInfo {
	if !s.sees(v, n) {
		return rowInfo{0, "lost", "n/a", "n/a", "n/a"}
	}
	r := rowInfo{prio: s.effectivePriority(g, n, now), preempt: yesNo(s.cfg.preempt(g)), manual: yesNo(s.manual[g])}
	var codes []string
	if g > 0 && n.coldLocked(now) {
		codes = append(codes, "CS")
	}
	codes = append(codes, n.monitor[g]...)
	r.monitors = "None"
	if len(codes) > 0 {
		r.monitors = strings.Join(codes, " ")
	}
	switch {
	case n.disabled:
		r.status = "disabled"
	case v.split && n == v:
		r.status = "primary"
	case s.primary[g] == n.idx:
		r.status = "primary"
	case g == 0 && now.Before(n.holdUntil):
		r.status = "secondary-hold"
	default:
		r.status = "secondary"
	}
	return r
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// statusLegend is the legend of Junos 19.x and later (with the RE and IS
// codes), copied from a raw capture (ntc-templates), 4-space indented.
const statusLegend = `Monitor Failure codes:
    CS  Cold Sync monitoring        FL  Fabric Connection monitoring
    GR  GRES monitoring             HW  Hardware monitoring
    IF  Interface monitoring        IP  IP monitoring
    LB  Loopback monitoring         MB  Mbuf monitoring
    NH  Nexthop monitoring          NP  NPC monitoring
    SP  SPU monitoring              SM  Schedule monitoring
    CF  Config Sync monitoring      RE  Relinquish monitoring
    IS  IRQ storm

`

// statusText renders `show chassis cluster status` (only group only, if
// >= 0) as v prints it, in the shape of a vSRX 19.x capture.
func (s *Sim) statusText(v *Node, only int, now time.Time) string {
	var b strings.Builder
	b.WriteString(statusLegend)
	fmt.Fprintf(&b, "Cluster ID: %d\n", s.opts.ClusterID)
	b.WriteString("Node   Priority Status               Preempt Manual   Monitor-failures\n")
	for g := range s.primary {
		if only >= 0 && g != only {
			continue
		}
		fmt.Fprintf(&b, "\nRedundancy group: %d , Failover count: %d\n", g, s.counts[g])
		for _, n := range s.nodes {
			r := s.row(v, n, g, now)
			fmt.Fprintf(&b, "%-7s%-9d%-21s%-8s%-9s%s\n", n.name, r.prio, r.status, r.preempt, r.manual, r.monitors)
		}
	}
	return b.String()
}

func xmlHeader(version string) string {
	return fmt.Sprintf("<rpc-reply xmlns:junos=\"http://xml.juniper.net/junos/%s/junos\">\n", version)
}

func (s *Sim) xmlTrailer(v *Node, now time.Time) string {
	return "    <cli>\n        <banner>" + s.bannerLocked(v, now) + "</banner>\n    </cli>\n</rpc-reply>\n"
}

// statusXML renders `show chassis cluster status | display xml`: a flat
// <device-stats> list per group (device-name, device-priority,
// redundancy-group-status, preempt, failover-mode, monitor-failures per
// node), as in SRX 12.3X48 and high-end captures.
func (s *Sim) statusXML(v *Node, only int, now time.Time) string {
	var b strings.Builder
	b.WriteString(xmlHeader(v.version))
	b.WriteString("    <chassis-cluster-status>\n")
	fmt.Fprintf(&b, "        <cluster-id>%d</cluster-id>\n", s.opts.ClusterID)
	for g := range s.primary {
		if only >= 0 && g != only {
			continue
		}
		b.WriteString("        <redundancy-group>\n")
		fmt.Fprintf(&b, "            <cluster-id>%d</cluster-id>\n", s.opts.ClusterID)
		fmt.Fprintf(&b, "            <redundancy-group-id>%d</redundancy-group-id>\n", g)
		fmt.Fprintf(&b, "            <redundancy-group-failover-count>%d</redundancy-group-failover-count>\n", s.counts[g])
		b.WriteString("            <device-stats>\n")
		for _, n := range s.nodes {
			r := s.row(v, n, g, now)
			fmt.Fprintf(&b, "                <device-name>%s</device-name>\n", n.name)
			fmt.Fprintf(&b, "                <device-priority>%d</device-priority>\n", r.prio)
			fmt.Fprintf(&b, "                <redundancy-group-status>%s</redundancy-group-status>\n", r.status)
			fmt.Fprintf(&b, "                <preempt>%s</preempt>\n", r.preempt)
			fmt.Fprintf(&b, "                <failover-mode>%s</failover-mode>\n", r.manual)
			fmt.Fprintf(&b, "                <monitor-failures>%s</monitor-failures>\n", r.monitors)
		}
		b.WriteString("            </device-stats>\n")
		b.WriteString("        </redundancy-group>\n")
	}
	b.WriteString("    </chassis-cluster-status>\n")
	b.WriteString(s.xmlTrailer(v, now))
	return b.String()
}

// versionPackages are the package lines of `show version`, copied from an
// SRX1500 19.4 cluster capture: {K} is the OS build stamp, {J} the Junos
// build stamp, {V} the version.
const versionPackages = `JUNOS OS Kernel 64-bit  [{K}]
JUNOS OS libs [{K}]
JUNOS OS runtime [{K}]
JUNOS OS time zone information [{K}]
JUNOS OS libs compat32 [{K}]
JUNOS OS 32-bit compatibility [{K}]
JUNOS py extensions2 [{J}]
JUNOS py extensions [{J}]
JUNOS py base2 [{J}]
JUNOS py base [{J}]
JUNOS OS vmguest [{K}]
JUNOS OS crypto [{K}]
JUNOS OS boot-ve files [{K}]
JUNOS network stack and utilities [{J}]
JUNOS libs [{J}]
JUNOS libs compat32 [{J}]
JUNOS runtime [{J}]
JUNOS na telemetry [{V}]
JUNOS Web Management Platform Package [{J}]
JUNOS srx libs compat32 [{J}]
JUNOS srx runtime [{J}]
JUNOS srx platform support [{J}]
JUNOS common platform support [{J}]
JUNOS srxtvp runtime [{J}]
Redis [{J}]
JUNOS pppoe [{J}]
JUNOS Openconfig [{V}]
JUNOS mtx network modules [{J}]
JUNOS modules [{J}]
JUNOS srxtvp modules [{J}]
JUNOS srxtvp libs [{J}]
JUNOS srx libs [{J}]
JUNOS srx Data Plane Crypto Support [{J}]
JUNOS daemons [{J}]
JUNOS srx daemons [{J}]
JUNOS SRX TVP AppQos Daemon [{J}]
JUNOS Extension Toolkit [{J}]
JUNOS Phone-home [{J}]
JUNOS Juniper Malware Removal Tool (JMRT) [1.0.0+{J}]
JUNOS J-Insight [{J}]
JUNOS Online Documentation [{J}]
JUNOS jail runtime [{K}]
JUNOS FIPS mode utilities [{J}]
`

var trainRe = regexp.MustCompile(`^(\d+)\.(\d+)([A-Z]\d+(?:-[A-Z]\d+)*)`)

// buildStamps returns invented OS and Junos build stamps for version, in the
// shape of the capture's "20201028.e1cef1d_builder_stable_11" and
// "20201202.202156_builder_junos_194_r3_s1".
func buildStamps(version string) (os, junos string) {
	train := "x"
	if m := trainRe.FindStringSubmatch(version); m != nil {
		train = m[1] + m[2] + "_" + strings.ToLower(strings.ReplaceAll(m[3], "-", "_"))
	}
	return "20230221.1ed3d4e_builder_stable_12", "20230505.083014_builder_junos_" + train
}

// versionText renders `show version` as v prints it: one "nodeN:" section
// per node v can see, as in the SRX1500 cluster capture.
func (s *Sim) versionText(v *Node) string {
	var parts []string
	for _, n := range s.nodes {
		if !s.sees(v, n) {
			continue
		}
		k, j := buildStamps(n.version)
		pkgs := strings.NewReplacer("{K}", k, "{J}", j, "{V}", n.version).Replace(versionPackages)
		parts = append(parts, fmt.Sprintf("%s:\n%s\nHostname: %s\nModel: vsrx\nJunos: %s\n%s",
			n.name, dashes, n.hostnameLocked(), n.version, pkgs))
	}
	return strings.Join(parts, "\n")
}

// versionXML renders `show version | display xml`:
// multi-routing-engine-results with one multi-routing-engine-item
// {re-name, software-information} per node v can see, as in an SRX4100
// cluster capture (with its white-space-only lines).
func (s *Sim) versionXML(v *Node, now time.Time) string {
	var b strings.Builder
	b.WriteString(xmlHeader(v.version))
	b.WriteString("    <multi-routing-engine-results>\n")
	for _, n := range s.nodes {
		if !s.sees(v, n) {
			continue
		}
		b.WriteString("        \n        <multi-routing-engine-item>\n            \n")
		fmt.Fprintf(&b, "            <re-name>%s</re-name>\n            \n", n.name)
		b.WriteString("            <software-information>\n")
		fmt.Fprintf(&b, "                <host-name>%s</host-name>\n", n.hostnameLocked())
		b.WriteString("                <product-model>vsrx</product-model>\n")
		b.WriteString("                <product-name>vsrx</product-name>\n")
		fmt.Fprintf(&b, "                <junos-version>%s</junos-version>\n", n.version)
		b.WriteString("                <package-information>\n")
		b.WriteString("                    <name>junos</name>\n")
		fmt.Fprintf(&b, "                    <comment>JUNOS Software Release [%s]</comment>\n", n.version)
		b.WriteString("                </package-information>\n")
		b.WriteString("            </software-information>\n")
		b.WriteString("        </multi-routing-engine-item>\n")
	}
	b.WriteString("        \n    </multi-routing-engine-results>\n")
	b.WriteString(s.xmlTrailer(v, now))
	return b.String()
}

// Storage figures of a node, from a FreeBSD 11 based Junos capture
// (genieparser "golden" output): /dev/gpt/var is 7.0G with 117M used and
// 6.3G available; the rest of its size is the file system reserve.
const (
	gib            = int64(1) << 30
	mib            = int64(1) << 20
	kib            = int64(1) << 10
	varTotal       = 7 * gib
	varUsedDefault = 117 * mib
	varReserve     = varTotal - varUsedDefault - 6764573491 // 6.3G available
)

// fsRow is one row of `show system storage`, sizes in bytes.
type fsRow struct {
	name, mount       string
	size, used, avail int64
}

// storageRows returns n's file systems: the capture's rows, /.mount/var
// with n's usage.
func (n *Node) storageRows() []fsRow {
	used := n.varUsed + n.filesSizeLocked()
	return []fsRow{
		{"/dev/gpt/junos", "/.mount", 20 * gib, 1288490188, 17 * gib},
		{"/dev/gpt/config", "/.mount/config", 793 * mib, 60 * kib, 730 * mib},
		{"/dev/gpt/var", "/.mount/var", varTotal, used, n.varAvailLocked()},
		{"tmpfs", "/.mount/tmp", 3435973836, 196 * kib, 3435973836},
		{"tmpfs", "/.mount/mfs", 334 * mib, 748 * kib, 333 * mib},
	}
}

// capacity is df's Capacity: used / (used + available), rounded, in percent.
func capacity(r fsRow) int {
	if r.used+r.avail <= 0 {
		return 100
	}
	return int(math.Round(float64(r.used) * 100 / float64(r.used+r.avail)))
}

// human formats bytes as df -h does: "0B", "60K", "1.2G", "793M" (one
// decimal below 10 of a unit, 1024-based).
func human(b int64) string {
	sign := ""
	if b < 0 {
		sign, b = "-", -b
	}
	const units = "BKMGTPE"
	v, u := float64(b), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	switch {
	case u == 0:
		return fmt.Sprintf("%s%dB", sign, b)
	case v < 9.95:
		return fmt.Sprintf("%s%.1f%c", sign, v, units[u])
	}
	return fmt.Sprintf("%s%.0f%c", sign, v, units[u])
}

// storageText renders `show system storage` as v prints it: one "nodeN:"
// section per node v can see, each with the column layout of the capture.
func (s *Sim) storageText(v *Node) string {
	var parts []string
	for _, n := range s.nodes {
		if !s.sees(v, n) {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s:\n%s\n", n.name, dashes)
		b.WriteString("Filesystem              Size       Used      Avail  Capacity   Mounted on\n")
		for _, r := range n.storageRows() {
			fmt.Fprintf(&b, "%-19s %8s %10s %10s %8d%%  %s\n", r.name, human(r.size), human(r.used), human(r.avail), capacity(r), r.mount)
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "\n")
}

// storageXML renders `show system storage | display xml`:
// multi-routing-engine-results with one system-storage-information per node
// v can see; blocks of 512 bytes with a junos:format attribute, as in an
// 18.2R1 capture.
func (s *Sim) storageXML(v *Node, now time.Time) string {
	var b strings.Builder
	b.WriteString(xmlHeader(v.version))
	b.WriteString("    <multi-routing-engine-results>\n")
	for _, n := range s.nodes {
		if !s.sees(v, n) {
			continue
		}
		b.WriteString("        <multi-routing-engine-item>\n")
		fmt.Fprintf(&b, "            <re-name>%s</re-name>\n", n.name)
		b.WriteString("            <system-storage-information junos:style=\"brief\">\n")
		for _, r := range n.storageRows() {
			b.WriteString("                <filesystem>\n")
			fmt.Fprintf(&b, "                    <filesystem-name>%s</filesystem-name>\n", r.name)
			fmt.Fprintf(&b, "                    <total-blocks junos:format=\"%s\">%d</total-blocks>\n", human(r.size), r.size/512)
			fmt.Fprintf(&b, "                    <used-blocks junos:format=\"%s\">%d</used-blocks>\n", human(r.used), r.used/512)
			fmt.Fprintf(&b, "                    <available-blocks junos:format=\"%s\">%d</available-blocks>\n", human(r.avail), r.avail/512)
			fmt.Fprintf(&b, "                    <used-percent>%3d</used-percent>\n", capacity(r))
			fmt.Fprintf(&b, "                    <mounted-on>%s</mounted-on>\n", r.mount)
			b.WriteString("                </filesystem>\n")
		}
		b.WriteString("            </system-storage-information>\n")
		b.WriteString("        </multi-routing-engine-item>\n")
	}
	b.WriteString("    </multi-routing-engine-results>\n")
	b.WriteString(s.xmlTrailer(v, now))
	return b.String()
}

func upDown(up bool) string {
	if up {
		return "Up"
	}
	return "Down"
}

// interfacesText renders `show chassis cluster interfaces` (no capture: an
// invented shape, see the package documentation).
func (s *Sim) interfacesText(v *Node) string {
	peer := v.peer()
	seesPeer := s.sees(v, peer)
	var b strings.Builder
	ctl := s.controlUp && seesPeer
	fmt.Fprintf(&b, "Control link status: %s\n\n", upDown(ctl))
	b.WriteString("Control interfaces:\n")
	b.WriteString("    Index   Interface   Monitored-Status   Internal-SA   Security\n")
	fmt.Fprintf(&b, "    %-7d %-11s %-18s %-13s %s\n\n", 0, "em0", upDown(ctl), "Disabled", "Disabled")
	fab := s.fabricUp && seesPeer
	fmt.Fprintf(&b, "Fabric link status: %s\n\n", upDown(fab))
	b.WriteString("Fabric interfaces:\n")
	b.WriteString("    Name    Child-interface    Status                    Security\n")
	b.WriteString("                               (Physical/Monitored)\n")
	for i, child := range []string{"ge-0/0/0", "ge-7/0/0"} {
		up := s.fabricUp && s.sees(v, s.nodes[i])
		st := upDown(up) + " / " + upDown(up)
		fmt.Fprintf(&b, "    %-7s %-18s %-25s %s\n", fmt.Sprintf("fab%d", i), child, st, "Disabled")
	}
	b.WriteString("\nRedundant-ethernet Information:\n")
	b.WriteString("    Name         Status      Redundancy-group\n")
	for _, r := range s.cfg.reths() {
		name, gs, _ := strings.Cut(r, " ")
		var g int
		_, _ = fmt.Sscan(gs, &g)
		up := g < len(s.primary) && s.primary[g] >= 0 && !s.nodes[s.primary[g]].down && !s.nodes[s.primary[g]].disabled
		fmt.Fprintf(&b, "    %-12s %-11s %s\n", name, upDown(up), gs)
	}
	b.WriteString("\nRedundant-pseudo-interface Information:\n")
	b.WriteString("    Name         Status      Redundancy-group\n")
	fmt.Fprintf(&b, "    %-12s %-11s %d\n", "lo0", "Up", 0)
	b.WriteString("\nInterface Monitoring:\n")
	b.WriteString("    Interface         Weight    Status                    Redundancy-group\n")
	b.WriteString("                                (Physical/Monitored)\n")
	for g := 1; g < len(s.primary); g++ {
		for _, m := range s.cfg.interfaceMonitors(g) {
			ifname, weight, _ := strings.Cut(m, " ")
			owner := s.nodes[0]
			if strings.HasPrefix(ifname, "ge-7/") {
				owner = s.nodes[1]
			}
			up := s.sees(v, owner) && !containsCode(owner.monitor[g], "IF")
			fmt.Fprintf(&b, "    %-17s %-9s %-25s %d\n", ifname, weight, upDown(up)+" / "+upDown(up), g)
		}
	}
	return b.String()
}

func containsCode(codes []string, c string) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// alarmsText renders `show system alarms` / `show chassis alarms` per node
// v can see: "No alarms currently active", or a count line and a table
// (invented shape).
func (s *Sim) alarmsText(v *Node, _ string) string {
	var parts []string
	for _, n := range s.nodes {
		if !s.sees(v, n) {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s:\n%s\n", n.name, dashes)
		if len(n.alarms) == 0 {
			b.WriteString("No alarms currently active\n")
		} else {
			fmt.Fprintf(&b, "%d alarms currently active\n", len(n.alarms))
			b.WriteString("Alarm time               Class  Description\n")
			for _, a := range n.alarms {
				fmt.Fprintf(&b, "%s  Major  %s\n", stampUTC(n.bootedAt), a)
			}
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "\n")
}

// commitsText renders `show system commit`, newest first (invented shape).
func (s *Sim) commitsText() string {
	var b strings.Builder
	for i := len(s.commits) - 1; i >= 0; i-- {
		c := s.commits[i]
		fmt.Fprintf(&b, "%-3d %s by %s via %s\n", len(s.commits)-1-i, stampUTC(c.at), c.user, c.via)
	}
	return b.String()
}
