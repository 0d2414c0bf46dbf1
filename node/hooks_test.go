package node

// MarkKeyPending records a key entry for id as in flight, as intake does
// while one is being logged (for tests).
func (n *Node) MarkKeyPending(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.keyPending[id]++
}
