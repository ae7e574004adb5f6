// Force-included into faiss-node's src/faiss.cc (-include compat.h).
// FAISS 1.7.3 declares idx_t only inside faiss::Index; faiss-node 0.5.1 uses faiss::idx_t
// (declared at namespace scope from FAISS 1.7.4 on, where this alias is a harmless redeclaration).
#pragma once
#include <cstdint>

namespace faiss {
using idx_t = int64_t;
}
