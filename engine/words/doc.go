// Package words shapes text shown to people, shared by the UI and the CLI
// so that both cut long names and messages the same way. It has no state
// and imports nothing of Shoal's.
package words
