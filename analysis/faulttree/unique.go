package faulttree

// uniqueTable finds the node with a given (level, low, high) in a node
// slice: open addressing with linear probing over node ids, 4 bytes a
// slot, half full at most. A Go map of the same content costs about
// three times the memory and twice the time.
type uniqueTable struct {
	slots []int32 // node id, or 0 for an empty slot (node 0 is a terminal)
	count int
}

func newUniqueTable() uniqueTable { return uniqueTable{slots: make([]int32, 1<<12)} }

func nodeHash(n bddNode) uint32 {
	return hash3(n.level, n.low, n.hi)
}

// find returns the id of n in nodes, or the slot where it belongs as a
// negative number −(slot+1).
func (u *uniqueTable) find(nodes []bddNode, n bddNode) int32 {
	mask := uint32(len(u.slots) - 1)
	for i := nodeHash(n) & mask; ; i = (i + 1) & mask {
		id := u.slots[i]
		if id == 0 {
			return -int32(i) - 1
		}
		if nodes[id] == n {
			return id
		}
	}
}

// insert records id (nodes[id] is new) at the slot find returned.
func (u *uniqueTable) insert(nodes []bddNode, slot int32, id int32) {
	u.slots[-slot-1] = id
	u.count++
	if 2*u.count > len(u.slots) {
		old := u.slots
		u.slots = make([]int32, 2*len(old))
		mask := uint32(len(u.slots) - 1)
		for _, id := range old {
			if id == 0 {
				continue
			}
			i := nodeHash(nodes[id]) & mask
			for u.slots[i] != 0 {
				i = (i + 1) & mask
			}
			u.slots[i] = id
		}
	}
}
