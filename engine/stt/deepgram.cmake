# Deepgram live streaming STT (protocols.md §3): one WebSocket per call.
list(APPEND STT_SOURCES
    deepgramsettings.h deepgramsettings.cpp
    deepgramturnassembler.h deepgramturnassembler.cpp
    deepgramrecognizer.h deepgramrecognizer.cpp
    deepgramrecognizerfactory.h deepgramrecognizerfactory.cpp)
list(APPEND STT_PUBLIC_DEPS Qt6::WebSockets Qt6::Network)
