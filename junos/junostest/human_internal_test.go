package junostest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHuman(t *testing.T) {
	for b, want := range map[int64]string{
		0: "0B", 1000: "1000B", 1024: "1.0K", 60 << 10: "60K", 793 << 20: "793M", 1288490188: "1.2G",
		20 << 30: "20G", 6764573491: "6.3G", -1572864: "-1.5M", 10*1024 - 1: "10K",
	} {
		assert.Equal(t, want, human(b), "%d", b)
	}
}

func TestConfigRender(t *testing.T) {
	c := defaultConfig(Options{Version: "21.4R3-S5.4", Hostnames: [2]string{"a", "b"}, RedundancyGroups: 2, Priorities: [2]int{100, 1}, Preempt: []int{1}})
	assert.Equal(t, "a", c.hostname("node0"))
	assert.Equal(t, "", c.hostname("node2"))
	_, err := c.apply("set", []string{"system", "host-name", "solo"})
	assert.Nil(t, err)
	assert.Equal(t, "solo", c.hostname("node2"), "system host-name outside the node groups")
	assert.Equal(t, "fabric-options {\n    member-interfaces {\n        ge-0/0/0;\n    }\n}\n",
		c.curly([]string{"interfaces", "fab0"}), "the contents of the hierarchy, as Junos shows them")
	assert.Equal(t, "reth-count 1;\n", c.curly([]string{"chassis", "cluster", "reth-count"}))
	assert.Equal(t, "", c.curly([]string{"chassis", "cluster", "nothing"}))
	assert.True(t, c.preempt(1))
	assert.Equal(t, 100, c.priority(1, 0))
	_, err = c.apply("frobnicate", []string{"x"})
	assert.NotNil(t, err)
}
