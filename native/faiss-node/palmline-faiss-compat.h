// faiss-node 0.5.1 is written against faiss >= 1.7.4, where the index id type is the
// namespace-level faiss::idx_t. Debian's libfaiss-dev ships 1.7.3, where it is only the
// member type faiss::Index::idx_t. Force-included before faiss.cc to bridge the two.
#pragma once
#include <faiss/Index.h>
namespace faiss {
using idx_t = Index::idx_t;
}
