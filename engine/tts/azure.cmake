# Azure AI Speech TTS over REST (protocols.md §5), with the decoders that turn
# each output format into mu-law.
list(APPEND TTS_SOURCES
    azuresettings.h azuresettings.cpp
    ssml.h ssml.cpp
    mp3streamdecoder.h mp3streamdecoder.cpp
    azureaudiodecoder.h azureaudiodecoder.cpp
    azuresynthesisjob.h azuresynthesisjob.cpp
    azuresynthesizer.h azuresynthesizer.cpp)
list(APPEND TTS_PUBLIC_DEPS Qt6::Network)
list(APPEND TTS_PRIVATE_DEPS PkgConfig::MPG123)
