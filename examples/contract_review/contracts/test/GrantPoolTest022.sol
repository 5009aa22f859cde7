// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title GrantPool
/// @notice A grant pool run by a governor.
contract GrantPoolTest022 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public feeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public credits;
    mapping(address => bool) public isMember;
    address[] public holders;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        feeBps = initialFee;
    }

    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        credits[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        holders.push(msg.sender);
    }

    /// @notice Send `amount` of the caller's balance back to the caller.
    function redeem(uint256 amount) external {
        require(credits[msg.sender] >= amount, "insufficient balance");
        credits[msg.sender] -= amount;
        totalHeld -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFeeBps(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(feeBps, newFee);
        feeBps = newFee;
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function rescueEther(address payable to, uint256 amount) external onlyOwner {
        require(address(this).balance - totalHeld >= amount, "would touch deposits");
        emit Swept(to, amount);
        to.transfer(amount);
    }

    /// @notice The protocol fee on `amount`, in wei.
    function quoteFee(uint256 amount) public view returns (uint256) {
        return amount * feeBps / BPS_DENOMINATOR;
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function creditBatch(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= holders.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            credits[holders[i]] += share;
        }
        totalHeld += share * count;
    }
}
