package driver_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
)

func fieldsOf(err error) []string {
	var fields []string
	var walk func(error)
	walk = func(err error) {
		if ce, ok := err.(*driver.ConfigError); ok {
			fields = append(fields, ce.Field)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return fields
}

func TestValidateReportsAllProblems(t *testing.T) {
	err := driver.Config{Host: "10.0.0.1:22", Port: 70000, Passphrase: "x", Timeout: -1, DialTimeout: -1,
		Platform: &driver.Platform{}}.Validate()
	require.ErrorIs(t, err, driver.ErrConfig)
	assert.ElementsMatch(t, []string{"Host", "Port", "Username", "Password", "Passphrase",
		"KnownHostsFile", "Platform", "Timeout", "DialTimeout"}, fieldsOf(err))
	assert.Contains(t, err.Error(), "KnownHostsFile: required: host keys are always verified")
}

func TestValidateChecksFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad_known_hosts")
	require.NoError(t, os.WriteFile(bad, []byte("this is not a known hosts line\n"), 0o600))
	err := driver.Config{Host: "fw1", Username: "admin", PrivateKeyPath: filepath.Join(dir, "missing_key"),
		KnownHostsFile: bad}.Validate()
	assert.ElementsMatch(t, []string{"PrivateKeyPath", "KnownHostsFile"}, fieldsOf(err))
	assert.Contains(t, err.Error(), "missing_key")

	err = driver.Config{Host: "fw1", Username: "admin", Password: "pw",
		KnownHostsFile: filepath.Join(dir, "nope")}.Validate()
	assert.Equal(t, []string{"KnownHostsFile"}, fieldsOf(err))
	assert.Contains(t, err.Error(), "nope")
}

func TestValidateOK(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(kh, nil, 0o600))
	require.NoError(t, driver.Config{Host: "fw1.example.net", Username: "admin", Password: "pw", KnownHostsFile: kh}.Validate())
	require.NoError(t, driver.Config{Host: "::1", Port: 2222, Username: "admin", Password: "pw", KnownHostsFile: kh}.Validate())
}

func TestValidateNeverEchoesSecrets(t *testing.T) {
	err := driver.Config{Password: "hunter2", Passphrase: "correct horse"}.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), "correct horse")
}
