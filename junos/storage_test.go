package junos

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

func TestParseSystemStorageFixtures(t *testing.T) {
	tests := []struct {
		file string
		want Storage
	}{
		{fxStorageGenie, Storage{Nodes: []NodeStorage{{Filesystems: []Filesystem{
			{Name: "/dev/gpt/junos", Size: 20 * gib, Used: 1288490189 /* 1.2G */, Available: 17 * gib, CapacityPercent: 7, MountedOn: "/.mount", Approximate: true},
			{Name: "/dev/gpt/config", Size: 793 * mib, Used: 60 * kib, Available: 730 * mib, CapacityPercent: 0, MountedOn: "/.mount/config", Approximate: true},
			{Name: "/dev/gpt/var", Size: 7 * gib, Used: 117 * mib, Available: 6764573491 /* 6.3G */, CapacityPercent: 2, MountedOn: "/.mount/var", Approximate: true},
			{Name: "tmpfs", Size: 3435973837 /* 3.2G */, Used: 196 * kib, Available: 3435973837, CapacityPercent: 0, MountedOn: "/.mount/tmp", Approximate: true},
			{Name: "tmpfs", Size: 334 * mib, Used: 748 * kib, Available: 333 * mib, CapacityPercent: 0, MountedOn: "/.mount/mfs", Approximate: true},
		}}}}},
		// The timestamp line after the command is skipped; rows ending in
		// "%" are kept.
		{fxStorageMX, Storage{Nodes: []NodeStorage{{Filesystems: []Filesystem{
			{Name: "/dev/md0.uzip", Size: 21 * mib, Used: 21 * mib, Available: 0, CapacityPercent: 100, MountedOn: "/", Approximate: true},
			{Name: "devfs", Size: kib, Used: kib, Available: 0, CapacityPercent: 100, MountedOn: "/dev", Approximate: true},
			{Name: "/dev/gpt/junos", Size: 19 * gib, Used: 6979321856 /* 6.5G */, Available: 11 * gib, CapacityPercent: 37, MountedOn: "/.mount", Approximate: true},
		}}}}},
		// Blocks of 512 bytes; " 59" is trimmed; the {backup} banner is ignored.
		{fxStorageXML, Storage{Nodes: []NodeStorage{{Filesystems: []Filesystem{
			{Name: "/dev/md0.uzip", Size: 43628 * 512, Used: 43628 * 512, Available: 0, CapacityPercent: 100, MountedOn: "/"},
			{Name: "/var/log", Size: 44306520 * 512, Used: 23882504 * 512, Available: 16879496 * 512, CapacityPercent: 59,
				MountedOn: "/.mount/packages/mnt/jweb-xxx/jail/var/log"},
		}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseSystemStorage(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			crlf, err := ParseSystemStorage(strings.ReplaceAll(readFixture(t, tt.file), "\n", "\r\n"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, crlf)
		})
	}
}

func TestStorageAvailable(t *testing.T) {
	genie, err := ParseSystemStorage(readFixture(t, fxStorageGenie))
	require.NoError(t, err)
	n, ok := genie.Node("")
	require.True(t, ok)
	b, ok := n.Available("/var") // mounted as /.mount/var on FreeBSD 11 based Junos
	assert.True(t, ok)
	assert.Equal(t, int64(6764573491), b)
	b, ok = genie.Available("/.mount/tmp")
	assert.True(t, ok)
	assert.Equal(t, int64(3435973837), b)
	_, ok = n.Available("/nonexistent")
	assert.False(t, ok)
	dup := NodeStorage{Filesystems: []Filesystem{{MountedOn: "/var", Available: 1}, {MountedOn: "/var", Available: 2}}}
	_, ok = dup.Available("/var")
	assert.False(t, ok, "a mount point listed twice is ambiguous")

	mx, err := ParseSystemStorage(readFixture(t, fxStorageMX))
	require.NoError(t, err)
	b, ok = mx.Available("/")
	assert.True(t, ok)
	assert.Equal(t, int64(0), b)

	xml, err := ParseSystemStorage(readFixture(t, fxStorageXML))
	require.NoError(t, err)
	_, ok = xml.Available("/var/log") // the jail's mount point, not /var/log
	assert.False(t, ok)

	_, ok = Storage{}.Available("/var")
	assert.False(t, ok)
}

func TestParseSystemStorageVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	cluster := "root@srx-node0> show system storage\nnode0:\n--------------------------------------------------------------------------\n" +
		"Filesystem              Size       Used      Avail  Capacity   Mounted on\n" +
		"/dev/da0s2a             1.2G       584M       556M       51%  /\n" +
		"/dev/da0s2e             356M       -12M       340M      103%  /var\n\n" +
		"node1:\n--------------------------------------------------------------------------\n" +
		"Filesystem              Size       Used      Avail  Capacity   Mounted on\n" +
		"/dev/da0s2a             1.2G       584M       556M       51%  /\n" +
		"/dev/da0s2e             356M       120M       207M       37%  /var\n\n{primary:node0}\nroot@srx-node0> "
	got, err := ParseSystemStorage(cluster)
	require.NoError(t, err, v+"cluster text")
	require.Len(t, got.Nodes, 2)
	assert.Equal(t, "node0", got.Nodes[0].Node)
	assert.Equal(t, "node1", got.Nodes[1].Node)
	assert.Equal(t, Filesystem{Name: "/dev/da0s2e", Size: 356 * mib, Used: -12 * mib, Available: 340 * mib, CapacityPercent: 103,
		MountedOn: "/var", Approximate: true}, got.Nodes[0].Filesystems[1])
	b, ok := got.Available("/var") // the smaller of the two nodes
	assert.True(t, ok)
	assert.Equal(t, 207*mib, b)
	assert.Equal(t, int64(1288490189), got.Nodes[1].Filesystems[0].Size)

	blocks, err := ParseSystemStorage("Filesystem  512-blocks  Used  Avail Capacity  Mounted on\n/dev/da0s2e  729088  245760  425216  37%  /var\n")
	require.NoError(t, err, v+"block counts")
	assert.Equal(t, Filesystem{Name: "/dev/da0s2e", Size: 729088 * 512, Used: 245760 * 512, Available: 425216 * 512, CapacityPercent: 37, MountedOn: "/var"},
		blocks.Nodes[0].Filesystems[0])

	multi := `<rpc-reply><multi-routing-engine-results>` +
		`<multi-routing-engine-item><re-name>node0</re-name><system-storage-information><filesystem><filesystem-name>/dev/da0s2e</filesystem-name>` +
		`<total-blocks junos:format="356M">729088</total-blocks><used-blocks junos:format="120M">245760</used-blocks>` +
		`<available-blocks junos:format="-1.5M">-3072</available-blocks><used-percent>101</used-percent><mounted-on>/var</mounted-on></filesystem>` +
		`</system-storage-information></multi-routing-engine-item>` +
		`<multi-routing-engine-item><re-name>node1</re-name><system-storage-information><filesystem><filesystem-name>/dev/da0s2e</filesystem-name>` +
		`<total-blocks>729088</total-blocks><used-blocks>245760</used-blocks><available-blocks>425216</available-blocks>` +
		`<used-percent>37</used-percent><mounted-on>/var</mounted-on></filesystem></system-storage-information></multi-routing-engine-item>` +
		`</multi-routing-engine-results></rpc-reply>`
	got, err = ParseSystemStorage(multi)
	require.NoError(t, err, v+"XML per node")
	require.Len(t, got.Nodes, 2)
	assert.Equal(t, int64(-3072*512), got.Nodes[0].Filesystems[0].Available)
	b, ok = got.Available("/var")
	assert.True(t, ok)
	assert.Equal(t, int64(-3072*512), b)
}

func TestParseHuman(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "0B": 0, "512B": 512, "1.0K": 1024, "1.5K": 1536, "60K": 61440, "356M": 356 * mib, "1.2G": 1288490189,
		"8.0G": 8 * gib, "-1.2G": -1288490189, "2T": 2 << 40, "1.25M": 1310720, "7E": 7 << 60,
	} {
		got, _, ok := parseHuman(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "1", "G", "1.G", "1.2345G", "8E", "1,2G", "12X", "1.2g", "+1G", "9999999999G", " 1G"} {
		_, _, ok := parseHuman(in)
		assert.False(t, ok, in)
	}
}

func TestParseSystemStorageFailsClosed(t *testing.T) {
	const hdr = "Filesystem              Size       Used      Avail  Capacity   Mounted on\n"
	const rowOK = "/dev/gpt/var            7.0G       117M       6.3G        2%  /.mount/var\n"
	xmlFS := func(fs string) string {
		return "<rpc-reply><system-storage-information><filesystem>" + fs + "</filesystem></system-storage-information></rpc-reply>"
	}
	const fsOK = "<filesystem-name>/dev/x</filesystem-name><total-blocks>2</total-blocks><used-blocks>1</used-blocks>" +
		"<available-blocks>1</available-blocks><used-percent>50</used-percent><mounted-on>/var</mounted-on>"
	tests := map[string]string{
		"empty":                       "",
		"header only":                 hdr,
		"no header":                   rowOK,
		"bad size unit":               hdr + "/dev/gpt/var  7.0X  117M  6.3G  2%  /var\n",
		"size too large":              hdr + "/dev/gpt/var  9999999E  117M  6.3G  2%  /var\n",
		"no percent":                  hdr + "/dev/gpt/var  7.0G  117M  6.3G  2  /var\n",
		"no mount":                    hdr + "/dev/gpt/var  7.0G  117M  6.3G  2%\n",
		"unknown line after header":   hdr + rowOK + "Total: 7.0G\n",
		"second header":               hdr + rowOK + hdr + rowOK,
		"node without rows":           "node0:\n" + hdr + "node1:\n" + hdr + rowOK,
		"node twice":                  "node0:\n" + hdr + rowOK + "node0:\n" + hdr + rowOK,
		"header before node sections": hdr + rowOK + "node1:\n" + hdr + rowOK,
		"blocks header, human sizes":  "Filesystem 512-blocks Used Avail Capacity Mounted on\n/dev/x 1.2G 1M 1M 1% /\n",
		"prompt with another command": "root@fw> show system storage partitions\n" + hdr + rowOK,
		"error line":                  "error: command is not valid on the vsrx\n",
		"show version output":         readFixture(t, fxVersion1500),
		"cleanup reply":               readFixture(t, fxCleanupXML),
		"xml no filesystem":           "<rpc-reply><system-storage-information/></rpc-reply>",
		"xml missing element":         xmlFS(strings.Replace(fsOK, "<mounted-on>/var</mounted-on>", "", 1)),
		"xml repeated element":        xmlFS(fsOK + "<used-blocks>1</used-blocks>"),
		"xml bad blocks":              xmlFS(strings.Replace(fsOK, "<total-blocks>2<", "<total-blocks>2.5<", 1)),
		"xml blocks overflow":         xmlFS(strings.Replace(fsOK, "<total-blocks>2<", "<total-blocks>999999999999999999<", 1)),
		"xml bad percent":             xmlFS(strings.Replace(fsOK, "<used-percent>50<", "<used-percent>50%<", 1)),
		"xml 1K blocks":               xmlFS(strings.Replace(fsOK, "<total-blocks>2<", `<total-blocks format="42M">43628<`, 1)),
		"xml bad format":              xmlFS(strings.Replace(fsOK, "<total-blocks>2<", `<total-blocks format="lots">2<`, 1)),
		"xml two plain":               "<rpc-reply><system-storage-information><filesystem>" + fsOK + "</filesystem></system-storage-information><system-storage-information><filesystem>" + fsOK + "</filesystem></system-storage-information></rpc-reply>",
		"xml item without re-name":    "<multi-routing-engine-results><multi-routing-engine-item><system-storage-information><filesystem>" + fsOK + "</filesystem></system-storage-information></multi-routing-engine-item></multi-routing-engine-results>",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSystemStorage(in)
			require.Error(t, err, "parsed as %+v", got)
			assert.Equal(t, Storage{}, got)
			assert.True(t, typedParseErr(err), "untyped %T %v", err, err)
			if name == "error line" {
				assert.ErrorIs(t, err, ErrDeviceError)
			} else {
				requireParseError(t, err)
			}
		})
	}
}
