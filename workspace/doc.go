// Package workspace is the user's workspace: the workbench, the app center, cloud desktops
// and the file center, assembled from the streaming, scheduling, policy and storage libraries.
package workspace
