// Package storage is the cloud disk: a flat linear address space cut into chunks, each chunk
// kept on three nodes in distinct failure domains and acknowledged only when durable on all of
// them. Volumes are exported to virtual machines over NBD and to people through the file
// center (HTTP and WebDAV).
package storage
