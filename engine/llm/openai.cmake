# The OpenAI-compatible chat completions client (Groq, OpenAI, Ollama,
# llama.cpp, vLLM) and its SSE parser; included by CMakeLists.txt when present.
list(APPEND LLM_SOURCES
  sseparser.h sseparser.cpp
  openaisettings.h openaisettings.cpp
  openairesponder.h openairesponder.cpp)
list(APPEND LLM_PUBLIC_DEPS Qt6::Network)
