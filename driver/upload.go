package driver

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	scp "github.com/bramvdbogaerde/go-scp"
)

// VerifyFunc asks the device for the size in bytes of the file at remotePath after an upload,
// e.g. by running a directory listing over a Session and parsing it.
type VerifyFunc func(ctx context.Context, remotePath string) (size int64, err error)

// remotePathGrammar is what Upload accepts as a remote path. go-scp runs `scp -t "<path>"` in
// the remote shell, so anything a shell could interpret is refused.
var remotePathGrammar = regexp.MustCompile(`^[A-Za-z0-9._/+:@-]+$`)

// Upload copies the local file localPath to remotePath on cfg's device by SCP (go-scp over an
// x/crypto/ssh client that verifies the host key against cfg.KnownHostsFile, like Open). The
// file is sent with mode 0644.
//
// Checks, in order: cfg is valid; localPath is an existing regular file (otherwise an
// *UploadError wrapping the *os.PathError, and nothing is sent); remotePath matches
// [A-Za-z0-9._/+:@-]+ (ErrInput). After the transfer, if verify is non-nil, it is called and
// the size it reports must equal the local size (otherwise an *UploadError wrapping
// ErrSizeMismatch). SCP itself already confirms that the device acknowledged every byte.
//
// ctx bounds and can cancel the transfer (the SSH connection is closed). Dial errors are
// *HostKeyError, *AuthError or *UnreachableError, wrapped in an *UploadError. If
// cfg.Transcript is set, the upload is recorded as a command "scp <local> <remote>".
func Upload(ctx context.Context, cfg Config, localPath, remotePath string, verify VerifyFunc) (err error) {
	if err := cfg.Validate(); err != nil {
		return err
	}
	fail := func(host string, err error) error {
		return &UploadError{Host: host, LocalPath: localPath, RemotePath: remotePath, Err: err}
	}
	f, err := os.Open(localPath)
	if err != nil {
		return fail("", err)
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return fail("", err)
	}
	if !fi.Mode().IsRegular() {
		return fail("", &os.PathError{Op: "upload", Path: localPath, Err: fmt.Errorf("not a regular file")})
	}
	if !remotePathGrammar.MatchString(remotePath) {
		return fmt.Errorf("driver: upload: remote path %q does not match %s: %w", remotePath, remotePathGrammar, ErrInput)
	}
	plat, err := cfg.platform()
	if err != nil {
		return err
	}
	addr := cfg.addr()
	size := fi.Size()
	start := time.Now()
	if cfg.Transcript != nil {
		cfg.Transcript.AddSecrets(cfg.secrets()...)
		defer func() {
			e := Entry{Host: addr, Command: "scp " + localPath + " " + remotePath, Start: start,
				Duration: time.Since(start), Output: fmt.Sprintf("%d bytes", size)}
			if err != nil {
				e.Error = err.Error()
			}
			cfg.Transcript.Record(e)
		}()
	}
	log := cfg.logger().With("host", addr)

	client, err := dialSSH(ctx, cfg, cfg.dialTimeout(plat))
	if err != nil {
		return fail(addr, err)
	}
	defer func() { _ = client.Close() }()
	// go-scp returns on ctx but leaves its goroutines blocked; closing the client ends them.
	stop := context.AfterFunc(ctx, func() { _ = client.Close() })
	defer stop()

	sc, err := scp.NewClientBySSH(client)
	if err != nil {
		return fail(addr, err)
	}
	if err := sc.Copy(ctx, io.NewSectionReader(f, 0, size), remotePath, "0644", size); err != nil {
		if ctx.Err() != nil {
			return fail(addr, fmt.Errorf("scp: %w", ctx.Err()))
		}
		return fail(addr, fmt.Errorf("scp: %w", err))
	}
	log.Debug("driver: uploaded", "local", localPath, "remote", remotePath, "bytes", size,
		"duration", time.Since(start))
	if verify != nil {
		got, err := verify(ctx, remotePath)
		if err != nil {
			return fail(addr, fmt.Errorf("verify size: %w", err))
		}
		if got != size {
			return fail(addr, fmt.Errorf("%w: local file has %d bytes, device reports %d", ErrSizeMismatch, size, got))
		}
	}
	return nil
}
