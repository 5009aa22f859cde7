"""What the causal-LM kinds share (not a kind itself): the base model (`base`), the chat
template (`template`), llguidance grammars (`grammar`), tokenizing, stop tokens, grammar-masked
logits and model loading (`causal`), and the LoRA fine-tuning loop (`train`)."""
