// Package sshsim is the shared engine behind every vendor's SSH device
// simulator.
//
// A simulator supplies a [Config] (users, banner, prompt, a [Handler] that
// answers command lines) and gets a [Server] that listens on 127.0.0.1 only
// and behaves like a network device's CLI over SSH:
//
//   - password authentication (keyboard-interactive with the same password is
//     accepted too), at most 3 attempts per connection;
//   - an interactive shell on a PTY that echoes typed characters, accepts
//     "\r", "\n" and "\r\n" line ends and minimal line editing (backspace,
//     Ctrl-C, Ctrl-U; escape sequences are swallowed), writes the banner and
//     then the prompt, and after every line the handler's output (with "\r\n"
//     line ends) followed by a freshly computed prompt;
//   - confirmation questions ([Reply].Ask / [Reply].OnAnswer);
//   - "exec" requests: `scp -t <target>` runs an SCP sink that hands uploaded
//     files to [Config].SCPSink or [Config].SCPUpload; any other command is
//     answered once by the handler;
//   - [Server.Reboot]: drop every session, refuse TCP connections for a while,
//     change state, then serve again on the same address with the same host
//     key.
//
// The engine knows nothing about any vendor: output text, prompts and state
// live in the vendor simulator that drives it.
package sshsim
