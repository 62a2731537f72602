// The system zlib (Debian: zlib1g-dev), for the DOCX writer's deflate and CRC-32.
#include <zlib.h>
