package checkpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/versionpath"
)

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	err := Config{
		Name:           "bad name",
		Members:        []Gateway{{Name: "gw-a", Host: "10.0.0.1"}, {Name: "gw-a", Host: "10.0.0.1:22"}},
		VirtualSystems: []string{"vs1"},
		Username:       "ad min",
		PackagePath:    "/nonexistent/x.zip",
		JumboTake:      5,
		RemoteDir:      "relative/../dir",
		TakeMinimums:   []versionpath.TakeMinimum{{From: "X1", MinTake: 1, To: "R82"}},
	}.Validate()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrConfig)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *ConfigError
		require.ErrorAs(t, e, &ce)
		fields = append(fields, ce.Field)
	}
	for _, f := range []string{"Name", "Members[1].Name", "Members[1].Host", "VirtualSystems", "Username", "Password",
		"ExpertPassword", "KnownHostsFile", "PackagePath", "JumboTake", "RemoteDir", "TakeMinimums/MultiStages"} {
		assert.Contains(t, fields, f)
	}
}

func TestConfigValidateAcceptsAValidOne(t *testing.T) {
	require.NoError(t, testConfig(t, "gw-a", "gw-b").Validate())
	c := testConfig(t, "gw-a", "gw-b")
	c.Members = c.Members[:1]
	require.ErrorIs(t, c.Validate(), ErrConfig, "one member is not a cluster")
	c = testConfig(t, "gw-a", "gw-b")
	c.Mgmt.URL = "http://mgmt"
	require.ErrorIs(t, c.Validate(), ErrMgmtConfig, "the management configuration is validated too")
	c = testConfig(t, "gw-a", "gw-b")
	c.JumboPath = c.PackagePath
	c.JumboTake = 92
	err := c.Validate()
	require.Error(t, err, "a Jumbo without VSX, with the package's name")
	assert.Contains(t, err.Error(), "VSX")
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	c := testConfig(t, "gw-a", "gw-b")
	secrets := []string{testPassword, testExpertPassword, c.Mgmt.Password}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", c)
	js, err := json.Marshal(c)
	require.NoError(t, err)
	cl := planCluster(t, nil, "gw-a", "gw-b")
	clJS, err := json.Marshal(cl)
	require.NoError(t, err)
	texts := []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q %d", c, c, c, c, c, c), buf.String(), string(js),
		fmt.Sprintf("%v %+v %#v", cl, cl, cl), string(clJS), fmt.Sprintf("%v %+v", cl.Member("gw-a"), cl.Member("gw-a"))}
	for _, text := range texts {
		for _, s := range secrets {
			assert.NotContains(t, text, s)
		}
	}
	assert.Contains(t, fmt.Sprint(c), "********")
	// Validation errors do not quote passwords either.
	c.ExpertPassword = "line1\nline2"
	assert.NotContains(t, c.Validate().Error(), "line1")
}

func TestTaskLogs(t *testing.T) {
	for _, tl := range []TaskLog{&MemoryTaskLog{}, &FileTaskLog{Path: filepath.Join(t.TempDir(), "tasks.json")}} {
		t.Run(fmt.Sprintf("%T", tl), func(t *testing.T) {
			ctx := context.Background()
			_, ok, err := tl.Get(ctx, "policy:final@R82")
			require.NoError(t, err)
			assert.False(t, ok)
			require.NoError(t, tl.Put(ctx, "policy:final@R82", TaskRecord{TaskID: "t-1"}))
			require.NoError(t, tl.Put(ctx, "policy:final@R82", TaskRecord{TaskID: "t-1", Succeeded: true}))
			require.NoError(t, tl.Put(ctx, "vsx-object@R82", TaskRecord{TaskID: "t-2"}))
			rec, ok, err := tl.Get(ctx, "policy:final@R82")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, TaskRecord{TaskID: "t-1", Succeeded: true}, rec)
			if f, isFile := tl.(*FileTaskLog); isFile {
				fi, err := os.Stat(f.Path)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
				again := &FileTaskLog{Path: f.Path} // another process
				rec, ok, err := again.Get(ctx, "vsx-object@R82")
				require.NoError(t, err)
				assert.True(t, ok)
				assert.Equal(t, "t-2", rec.TaskID)
				require.NoError(t, os.WriteFile(f.Path, []byte("{not json"), 0o600))
				_, _, err = again.Get(ctx, "x")
				assert.Error(t, err)
			}
		})
	}
}

func TestGaiaOutputReaders(t *testing.T) {
	rc, err := parseRC("hitless-rc=0\n")
	require.NoError(t, err)
	assert.Equal(t, 0, rc)
	rc, err = parseRC("hitless-rc=127")
	require.NoError(t, err)
	assert.Equal(t, 127, rc)
	_, err = parseRC("CLINFR0329  Invalid command:'echo'.")
	assert.ErrorIs(t, err, ErrUnreadable)

	n, err := parseMultikStat("ID | Active  | CPU    | Connections | Peak    \n----------------------\n 0 | Yes     | 3      |          10 |       25\n 1 | Yes     | 2      |          11 |       26\n")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = parseMultikStat("fw: CoreXL is disabled\n")
	assert.ErrorIs(t, err, ErrUnreadable)

	avail, err := parseDF("Filesystem     1024-blocks    Used Available Capacity Mounted on\n/dev/mapper/vg_splat-lv_log  20961280 1234567  19726713       6% /var/log\n")
	require.NoError(t, err)
	assert.Equal(t, int64(19726713), avail)
	_, err = parseDF("-bash: df: command not found\n")
	assert.ErrorIs(t, err, ErrUnreadable)

	size, ok, err := parseLsSize("-rw-r--r-- 1 admin root 65536 Jan  1 00:00 /var/log/upload/x.tar\n", "/var/log/upload/x.tar")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(65536), size)
	_, ok, err = parseLsSize("ls: cannot access /var/log/upload/x.tar: No such file or directory\n", "/var/log/upload/x.tar")
	require.NoError(t, err)
	assert.False(t, ok)

	for out, want := range map[string]importStart{
		"Preparing package for import. This operation might take a few moments\nInfo: Initiating import of x.tar...": importStarted,
		"Info: Import of x.tar is already in progress.":                                                              importInProgress,
		"Info: Package x.tar is already imported.":                                                                   importDone,
	} {
		got, err := parseImportStart(out)
		require.NoError(t, err)
		assert.Equal(t, want, got, out)
	}
	_, err = parseImportStart("something else entirely")
	assert.ErrorIs(t, err, ErrUnreadable)

	rows := parseInstallerRows("**   Hotfixes   **\nDisplay name        Status\nR82 Jumbo Hotfix Accumulator Take 91      Available for Install\n\n")
	assert.Equal(t, []string{"R82 Jumbo Hotfix Accumulator Take 91\tAvailable for Install"}, rows)

	require.NoError(t, parseVerify("Info: Initiating verify of x.tar...\nResult: Verifier results:\nUpgrade: Upgrade is allowed."))
	assert.ErrorIs(t, parseVerify("Upgrade: Upgrade is not allowed. Reason: version."), ErrVerifyRefused)
	assert.ErrorIs(t, parseVerify("Result: pending"), ErrVerifyRefused, "fail closed on an unknown answer")

	has, conflict := dynamicSplitState("# comment\nOFF_BY_DEFAULT_ON_VSX=1\n")
	assert.True(t, has)
	assert.Empty(t, conflict)
	has, conflict = dynamicSplitState("OFF_BY_DEFAULT_ON_VSX=0\n")
	assert.False(t, has)
	assert.Equal(t, "OFF_BY_DEFAULT_ON_VSX=0", conflict)
	has, _ = dynamicSplitState("# OFF_BY_DEFAULT_ON_VSX=1\n")
	assert.False(t, has, "a comment is not the setting")
}

func TestClassifyRoundTrips(t *testing.T) {
	for _, k := range conditions {
		e := classify(cond(k, "detail %d", 1).Error())
		assert.ErrorIs(t, e, k)
		assert.True(t, strings.HasSuffix(e.Error(), "detail 1"), e.Error())
	}
	assert.ErrorIs(t, classify("something else"), ErrUnreadable, "fail closed")
	assert.True(t, errors.Is(ErrInstallNotTaken, errors.Unwrap(ErrInstallNotTaken)))
}

func TestJudgePolicy(t *testing.T) {
	detail := func(name, status, fault string) json.RawMessage {
		m := map[string]any{"gatewayId": "uid-" + name, "gatewayName": name, "statusCode": status}
		if fault != "" {
			m["fault-message"] = fault
		}
		b, _ := json.Marshal(m)
		return b
	}
	partial := Task{ID: "t1", Status: TaskStatusPartiallySucceeded, Details: []json.RawMessage{
		detail("gw-a", "failed", "Policy installation failed on gateway gw-a"), detail("gw-b", "succeeded", "")}}
	mvc := policySpec{target: "cpcluster", access: true, required: []string{"gw-b"}}
	note, err := judgePolicy(mvc, partial, nil)
	require.NoError(t, err, "partially succeeded is expected during MVC")
	assert.Contains(t, note, "succeeded on gw-b")
	assert.Contains(t, note, "failed on gw-a")

	_, err = judgePolicy(policySpec{target: "cpcluster", required: []string{"gw-a"}}, partial, nil)
	assert.ErrorIs(t, err, ErrPolicyFailed, "the required member's own result")

	final := policySpec{target: "cpcluster", access: true, threat: true, allOrFail: true}
	_, err = judgePolicy(final, partial, nil)
	require.ErrorIs(t, err, ErrPolicyFailed, "the final installation must fully succeed")
	var re *RuleError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "gw-a", re.Member)

	ok := Task{ID: "t2", Status: TaskStatusSucceeded, Details: []json.RawMessage{detail("gw-a", "succeeded", ""), detail("gw-b", "succeeded", "")}}
	_, err = judgePolicy(final, ok, nil)
	require.NoError(t, err)

	_, err = judgePolicy(mvc, Task{ID: "t3", Status: TaskStatusSucceeded}, nil)
	assert.ErrorIs(t, err, ErrMgmtProtocol, "no per-gateway result: fail closed")

	_, err = judgePolicy(mvc, Task{ID: "t4", Status: TaskStatusInProgress}, &TaskError{ID: "t4", Err: ErrTaskTimeout})
	assert.ErrorIs(t, err, ErrTaskTimeout)
}
