# The TTS cache (memory LRU + Redis) and the synthesizer that puts it in front
# of a provider. Included by engine/tts/CMakeLists.txt.
list(APPEND TTS_SOURCES
  ttscachekey.h ttscachekey.cpp
  ttscachememory.h ttscachememory.cpp
  ttscachestats.h ttscachestats.cpp
  ttscache.h ttscache.cpp
  ttscacheflight.h ttscacheflight.cpp
  ttscachejob.h ttscachejob.cpp
  cachingsynthesizer.h cachingsynthesizer.cpp)
