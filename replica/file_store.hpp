// file_store — object_store on a local directory (file:///abs/path). A put writes a temporary file,
// fsyncs it and renames it into place, so a reader never sees half an object.
#pragma once
#include "replica/object_store.hpp"

namespace monolite::replica {

store_result<std::unique_ptr<object_store>> open_file_store(std::string_view url);

}  // namespace monolite::replica
