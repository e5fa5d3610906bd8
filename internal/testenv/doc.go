// Package testenv lets tests that need an outside program (Xvfb, chromium, qemu, usbip,
// litmus) find it. When the program is missing a test is skipped on a developer's machine,
// but fails with a clear message in CI (CI set in the environment), where
// scripts/install-deps.sh must have installed it.
package testenv
