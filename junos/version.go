package junos

import "github.com/hitless/hitless/versionpath"

// GrammarName is the versionpath grammar name of Junos versions ("junos").
const GrammarName = versionpath.JunosGrammarName

// Version is a Junos OS version such as 21.4R3-S10, 15.1X49-D180.2 or
// 19.4R3-S4.1. It is versionpath.JunosVersion under this package's name:
// the grammar lives in package versionpath because the upgrade-path rule
// there (versionpath.CheckJunosHop, the three-release span with its EEOL
// exception) must place versions on release trains, and versionpath
// imports nothing of the project. See versionpath.Junos for the grammar,
// the ordering (the tuple major, minor, type, release, D, S, spin, so
// 21.4R3-S10 is newer than 21.4R3-S5) and the order chosen between release
// types.
type Version = versionpath.JunosVersion

// Grammar is the versionpath.Grammar of Junos versions (named "junos"); its
// Parse returns a Version.
type Grammar = versionpath.Junos

// ParseVersion parses a Junos version with the strict grammar (see
// versionpath.Junos): no trimming, upper-case type letters, no leading
// zeros; development builds ("17.3-2017-07-02.0", "13.3-20131120") and
// Junos OS Evolved versions ("-EVO") are refused. These strings end up in
// device commands. Errors are a *versionpath.ParseError (Grammar "junos",
// Input s, the reason) wrapping versionpath.ErrMalformed.
func ParseVersion(s string) (Version, error) { return versionpath.ParseJunos(s) }

// SameRelease reports whether running satisfies target for an "already at
// target" decision: equal except for the spin, where a version without a
// spin matches every spin ("23.4R2-S5" is satisfied by "23.4R2-S5.5", the
// base and release versions IBM Cloud lists for vSRX). Compare, by
// contrast, counts a missing spin as 0 (21.4R3 < 21.4R3.13) and stays a
// total order. See versionpath.JunosVersion.SameRelease.
func SameRelease(running, target Version) bool { return running.SameRelease(target) }
