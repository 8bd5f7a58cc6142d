// Package secretscheck holds the SDK-wide test that no configuration type
// of any vendor package leaks a secret through fmt (every verb), JSON or
// slog. It has no code of its own.
package secretscheck
