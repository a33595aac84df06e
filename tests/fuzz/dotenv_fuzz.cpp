// .env parsing: any bytes give a list of set names or Error(Config), and never echo a value.

#include <cstdlib>

#include "fuzz_support.hpp"
#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmeval;
    const auto path = fuzz::scratch_dir() / "env" / ".env";
    fuzz::write_file(path, fuzz::as_text(data, size));
    try {
        for (const std::string& name : load_dotenv(path)) {
            if (std::getenv(name.c_str()) == nullptr) std::abort();  // reported as set, but is not
            ::unsetenv(name.c_str());  // keep the environment from growing across inputs
        }
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Config) std::abort();
    }
    return 0;
}
