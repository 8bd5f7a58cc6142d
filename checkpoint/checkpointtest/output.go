package checkpointtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// eventTime formats t like the "Event time" of `cphaprob state`
// ("Fri May 15 10:50:59 2026").
func eventTime(t time.Time) string { return t.UTC().Format(time.ANSIC) }

// clusterStateLocked renders `cphaprob state` (Clish `show cluster state`)
// as m sees the cluster, in VS context vs. The layout is copied from a real
// R82 capture (Clish) and a real R8x capture (Expert, with a "Last cluster
// failover event" block): a leading blank line, the "Cluster Mode" line, the
// member table with columns at 0/11/27/43/58, two blank lines, Active
// PNOTEs, the event blocks each after a blank line, two trailing blank
// lines.
func (m *Member) clusterStateLocked(vs int) string {
	s := m.sim
	var b strings.Builder
	b.WriteString("\n")
	fmt.Fprintf(&b, "Cluster Mode:   %s\n\n", s.opts.ClusterMode)
	b.WriteString("ID         Unique Address  Assigned Load   State          Name\n\n")
	vsDown := vs != 0 && m.vsDown[vs]
	for _, p := range s.members {
		id := strconv.Itoa(p.id)
		var st string
		if p == m {
			id += " (local)"
			st = m.ownStateLocked()
			if vsDown {
				st = "DOWN"
			}
		} else {
			st = m.peerStateLocked(p)
			if st == "LOST" && !p.down && s.opts.LostPeersUnlisted {
				continue
			}
		}
		load := "0%"
		if strings.HasPrefix(st, "ACTIVE") {
			load = "100%"
		}
		fmt.Fprintf(&b, "%-11s%-16s%-16s%-15s%s\n", id, p.syncAddr, load, st, p.name)
	}
	b.WriteString("\n\n")
	pn := m.pnotesLocked()
	if vsDown {
		pn = append(pn, "VSX")
	}
	if len(pn) == 0 {
		b.WriteString("Active PNOTEs: None\n")
	} else {
		fmt.Fprintf(&b, "Active PNOTEs: %s\n", strings.Join(pn, ", "))
	}
	if ev := m.lastChange; ev != nil {
		b.WriteString("\nLast member state change event:\n")
		fmt.Fprintf(&b, "   Event Code:                 %s\n", ev.code)
		fmt.Fprintf(&b, "   State change:               %s -> %s\n", ev.from, ev.to)
		fmt.Fprintf(&b, "   Reason for state change:    %s\n", ev.reason)
		fmt.Fprintf(&b, "   Event time:                 %s\n", eventTime(ev.at))
	}
	if fo := m.lastFailover; fo != nil {
		b.WriteString("\nLast cluster failover event:\n")
		fmt.Fprintf(&b, "   Transition to new ACTIVE:   Member %d -> Member %d\n", fo.from, fo.to)
		fmt.Fprintf(&b, "   Reason:                     %s\n", fo.reason)
		fmt.Fprintf(&b, "   Event time:                 %s\n", eventTime(fo.at))
	}
	b.WriteString("\nCluster failover count:\n")
	fmt.Fprintf(&b, "   Failover counter:           %d\n", m.failCount)
	fmt.Fprintf(&b, "   Time of counter reset:      %s (reboot)\n", eventTime(m.bootedAt))
	b.WriteString("\n\n")
	return b.String()
}

// vmac is the VMAC address printed for every virtual cluster interface,
// copied from the R80.20 ClusterXL Administration Guide example.
const vmac = "00:1C:7F:00:36:70"

// interfacesLocked renders `cphaprob -a if` in the per-interface layout of
// sk20576 and the R80.20 ClusterXL Administration Guide (name at column 0,
// state at 11, CCP description at 33), with the "CCP mode" and count lines
// on their own lines and the "Virtual cluster interfaces" rows of the
// Quantum Spark R82.00.X guide (name, address at 15, VMAC at 31). Releases
// before R80.30 print "CCP mode: Automatic" and multicast; later ones are
// unicast only ("CCP mode: Manual (Unicast)").
func (m *Member) interfacesLocked() string {
	s := m.sim
	ccp, cast := "Manual (Unicast)", "unicast"
	if mustRelease(m.release).Compare(mustRelease("R80.30")) < 0 {
		ccp, cast = "Automatic", "multicast"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CCP mode: %s\n", ccp)
	fmt.Fprintf(&b, "Required interfaces: %d\n", len(s.opts.Interfaces))
	b.WriteString("Required secured interfaces: 1\n\n")
	vips := 0
	for _, itf := range s.opts.Interfaces {
		st := "UP"
		if m.ifDown[itf.Name] {
			st = "DOWN"
		}
		kind := "non sync(non secured)"
		if itf.Sync {
			kind = "sync(secured)"
		}
		fmt.Fprintf(&b, "%-11s%-22s%s, %s\n", itf.Name, st, kind, cast)
		if itf.VIP.IsValid() {
			vips++
		}
	}
	fmt.Fprintf(&b, "\nVirtual cluster interfaces: %d\n\n", vips)
	for _, itf := range s.opts.Interfaces {
		if itf.VIP.IsValid() {
			fmt.Fprintf(&b, "%-15s%-16sVMAC address: %s\n", itf.Name, itf.VIP, vmac)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// fwVerLocked renders `fw ver`, copied in shape from a real R81.20 capture.
func (m *Member) fwVerLocked() string {
	return fmt.Sprintf("This is Check Point's software version %s - Build %s\n", m.release, m.build)
}

// kernelOf returns the Gaia kernel version printed for release: the 3.10
// kernel of a real R81.10 capture, and an INVENTED 4.18 kernel string for
// R82 and later (R82 ships a 4.18 kernel; the exact build is unverified).
func kernelOf(release string) string {
	if mustRelease(release).Compare(mustRelease("R82")) >= 0 {
		return "4.18.0-372.9.1cpx86_64"
	}
	return "3.10.0-957.21.3cpx86_64"
}

// versionAllLocked renders Clish `show version all`, copied in shape from a
// real R81.10 capture.
func (m *Member) versionAllLocked() string {
	return fmt.Sprintf("Product version Check Point Gaia %s\nOS build %s\nOS kernel version %s\nOS edition 64-bit\n",
		m.release, m.build, kernelOf(m.release))
}

// relToken is a release as package names spell it: "R81_20".
func relToken(release string) string { return strings.ReplaceAll(release, ".", "_") }

// cpinfoLocked renders `cpinfo -y all` in the shape of a real R81.20
// capture: the banner line, product sections "[NAME]" and TAB-indented
// hotfix lines, the Jumbo as "HOTFIX_<REL>_JUMBO_HF_MAIN<TAB>Take:  N"
// (the capture shows these TABs expanded to spaces), the bundle under
// [CPUpdates], "No hotfixes.." in sections without one. The section list of
// a gateway is INVENTED (the capture is of a management server).
func (m *Member) cpinfoLocked() string {
	var b strings.Builder
	b.WriteString("This is Check Point CPinfo Build 914000274 for GAIA\n")
	jumbo := ""
	if m.take > 0 {
		jumbo = fmt.Sprintf("\tHOTFIX_%s_JUMBO_HF_MAIN\tTake:  %d\n", relToken(m.release), m.take)
	}
	for _, sec := range []string{"IDA", "CPFC", "FW1", "SecurePlatform", "PPACK", "CPinfo", "CPUpdates"} {
		fmt.Fprintf(&b, "[%s]\n", sec)
		switch {
		case jumbo != "" && (sec == "FW1" || sec == "PPACK"):
			b.WriteString(jumbo)
		case m.take > 0 && sec == "CPUpdates":
			fmt.Fprintf(&b, "\tBUNDLE_%s_JUMBO_HF_MAIN\tTake:  %d\n", relToken(m.release), m.take)
		default:
			b.WriteString("\tNo hotfixes..\n")
		}
	}
	return b.String()
}

// cpuseBanner is a CPUSE section heading, "**   Hotfixes   **", 80
// characters wide as in the R82 lab listing.
func cpuseBanner(title string) string {
	left := (76-len(title))/2 - 1
	right := 76 - len(title) - left
	return "**" + strings.Repeat(" ", left) + title + strings.Repeat(" ", right) + "**\n"
}

// cpuseRow is one CPUSE listing row: the display name padded to 96
// characters, then the last cell, as in the R82 lab listing.
func cpuseRow(name, cell string) string { return fmt.Sprintf("%-96s%s\n", name, cell) }

// installedLocked renders Clish `show installer packages installed`, in
// the shape of the R82 lab listing with a Status column: the "Hotfixes"
// heading, the header, one row per Jumbo take ("Installed"; a take that
// came with a Blink image and was replaced by a later Jumbo shows
// "Installed as part of"). Only the Hotfixes section is printed.
func (m *Member) installedLocked() string {
	var b strings.Builder
	b.WriteString(cpuseBanner("Hotfixes"))
	b.WriteString(cpuseRow("Display name", "Status"))
	if m.embeddedTake > 0 && m.embeddedTake != m.take {
		b.WriteString(cpuseRow(jumboDisplayName(m.release, m.embeddedTake), "Installed as part of"))
	}
	if m.take > 0 {
		b.WriteString(cpuseRow(jumboDisplayName(m.release, m.take), "Installed"))
	}
	return b.String()
}

// importedLocked renders Clish `show installer packages imported`: the
// same layout as the installed listing, a "Hotfixes" section with the
// imported Jumbos ("Available for Install") and, when a major or Blink
// package is imported, a "Major" section ("Available for Upgrade"). The
// status words and the Major section are INVENTED (UNVERIFIED).
func (m *Member) importedLocked() string {
	var b strings.Builder
	b.WriteString(cpuseBanner("Hotfixes"))
	b.WriteString(cpuseRow("Display name", "Status"))
	major := false
	for _, i := range m.imported {
		if i.pkg.Kind == KindJumbo {
			b.WriteString(cpuseRow(i.pkg.DisplayName(), "Available for Install"))
		} else {
			major = true
		}
	}
	if major {
		b.WriteString(cpuseBanner("Major"))
		b.WriteString(cpuseRow("Display name", "Status"))
		for _, i := range m.imported {
			if i.pkg.Kind == KindMajor {
				b.WriteString(cpuseRow(i.pkg.DisplayName(), "Available for Upgrade"))
			}
		}
	}
	return b.String()
}

// vsxDate formats t like `vsx stat -v` ("10Dec2021  5:26:32"; rows without
// seconds: "10Dec2021  5:27").
func vsxDate(t time.Time, seconds bool) string {
	t = t.UTC()
	s := fmt.Sprintf("%2d%s%d %2d:%02d", t.Day(), t.Format("Jan"), t.Year(), t.Hour(), t.Minute())
	if seconds {
		s += fmt.Sprintf(":%02d", t.Second())
	}
	return s
}

// vsxCount renders a count line of `vsx stat -v`: the first number ends at
// column 57, as in the real capture.
func vsxCount(label string, a int, b ...int) string {
	s := fmt.Sprintf("%s%*d", label, 57-len(label), a)
	if len(b) > 0 {
		s += fmt.Sprintf(" / %d", b[0])
	}
	return s + "\n"
}

// vsxStatLocked renders `vsx stat -v` in the shape of a real R80.10 VSX
// capture (gateway block, count lines, device table with the header cut to
// "SIC Stat", legend), or the non-VSX text with exit status 0. A Virtual
// System that is not loaded shows "<Not Loaded>" policies and is not
// counted as active (INVENTED: no capture shows one).
func (m *Member) vsxStatLocked() string {
	s := m.sim
	if !s.opts.VSX {
		return "VSX is not supported on this platform\n"
	}
	var b strings.Builder
	b.WriteString("VSX Gateway Status\n==================\n")
	fmt.Fprintf(&b, "Name:            %s\n", m.name)
	b.WriteString("Access Control Policy: Standard\n")
	fmt.Fprintf(&b, "Installed at:    %s\n", vsxDate(m.policyAt, true))
	b.WriteString("Threat Prevention Policy: Standard\n")
	b.WriteString("SIC Status:      Trust\n\n")
	var vsConf, vsAct, swConf, swAct int
	for _, vs := range s.opts.VirtualSystems {
		if vs.Switch {
			swConf++
			if !m.vsDown[vs.ID] {
				swAct++
			}
		} else {
			vsConf++
			if !m.vsDown[vs.ID] {
				vsAct++
			}
		}
	}
	b.WriteString(vsxCount("Number of Virtual Systems allowed by license:", max(10, vsConf)))
	b.WriteString(vsxCount("Virtual Systems [active / configured]:", vsAct, vsConf))
	b.WriteString(vsxCount("Virtual Routers and Switches [active / configured]:", swAct, swConf))
	b.WriteString(vsxCount("Total connections [current / limit]:", 25445, 1502500))
	b.WriteString("\nVirtual Devices Status\n======================\n\n")
	b.WriteString(" ID  | Type & Name             | Access Control Policy | Installed at    | Threat Prevention Policy | SIC Stat\n")
	b.WriteString("-----+-------------------------+-----------------------+-----------------+--------------------------+---------\n")
	for _, vs := range s.opts.VirtualSystems {
		typ, acl, at, tp := "S", "Standard", vsxDate(m.policyAt, false), "Standard"
		switch {
		case vs.Switch:
			typ, acl, at, tp = "W", "<Not Applicable>", "", "<Not Applicable>"
		case m.vsDown[vs.ID]:
			acl, at, tp = "<Not Loaded>", "", "<Not Loaded>"
		}
		fmt.Fprintf(&b, "%4d | %-23s | %-21s | %-15s | %-24s | %s\n", vs.ID, typ+" "+vs.Name, acl, at, tp, "Trust")
	}
	b.WriteString("\nType: S - Virtual System, B - Virtual System in Bridge mode,\n")
	b.WriteString("      R - Virtual Router, W - Virtual Switch.\n\n")
	return b.String()
}

// multikLocked renders `fw ctl multik stat` (layout from public forum
// transcripts, UNVERIFIED against a capture; the figures are invented).
func (m *Member) multikLocked() string {
	var b strings.Builder
	b.WriteString("ID | Active  | CPU    | Connections | Peak    \n")
	b.WriteString("----------------------------------------------\n")
	for i := range m.corexl {
		fmt.Fprintf(&b, "%2d | Yes     | %-6d | %11d | %8d\n", i, m.corexl-i, 10+i, 25+i)
	}
	return b.String()
}

// vsName returns the name of VS context id (the gateway for 0), or "".
func (m *Member) vsName(id int) string {
	if id == 0 {
		return m.name
	}
	for _, vs := range m.sim.opts.VirtualSystems {
		if vs.ID == id {
			return vs.Name
		}
	}
	return ""
}

// releaseCompare compares two valid releases.
func releaseCompare(a, b string) int {
	va, vb := mustRelease(a), mustRelease(b)
	return va.Compare(vb)
}
